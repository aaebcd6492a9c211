"""Reading an object's omap whole: RADOS returns at most a page of entries
per read operation."""
from __future__ import annotations

import rados

# The OSD caps one read at osd_max_omap_entries_per_request (1024 by default
# in Ceph 16) whatever the client asks: asking for more and taking a shorter
# page for the last one lost every entry past the first 1024.
PAGE = 1024


def read_all(ioctx, name: str, prefix: str = "", until_empty: bool = False) -> tuple[dict, int]:
    """({key: value} of the entries under ``prefix``, the object's version
    at the last page); raises ObjectNotFound when the object does not exist.

    A page shorter than PAGE ends the read, one round trip for a small
    table, which is complete unless the cluster caps pages below PAGE:
    callers that cannot check completeness themselves (node tables carry
    their count and digest) pass ``until_empty`` to read on until a page
    comes back empty."""
    entries, after = {}, ""
    while True:
        with rados.ReadOpCtx() as op:
            found, _ = ioctx.get_omap_vals(op, after, prefix, PAGE)
            ioctx.operate_read_op(op, name)
            page = dict(found)
        entries.update(page)
        if not page or (len(page) < PAGE and not until_empty):
            return entries, ioctx.get_last_version()
        after = max(page)
