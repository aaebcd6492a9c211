"""Reading an object's omap whole: RADOS returns at most a page of entries
per read operation."""
from __future__ import annotations

import rados

PAGE = 4096


def read_all(ioctx, name: str, prefix: str = "") -> tuple[dict, int]:
    """({key: value} of the entries under ``prefix``, the object's version
    at the last page); raises ObjectNotFound when the object does not exist."""
    entries, after = {}, ""
    while True:
        with rados.ReadOpCtx() as op:
            found, _ = ioctx.get_omap_vals(op, after, prefix, PAGE)
            ioctx.operate_read_op(op, name)
            page = dict(found)
        entries.update(page)
        if len(page) < PAGE:
            return entries, ioctx.get_last_version()
        after = max(page)
