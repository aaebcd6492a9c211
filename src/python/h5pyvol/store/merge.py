"""Three-way merge of one node's zarr.json, for writers that share a file.

Each writer keeps, per node, the document it last wrote or read (``base``).
When its compare-and-swap finds the node changed by someone else
(``theirs``), its own document (``mine``) is merged into theirs name by
name: a link, an attribute or a field that only one side changed takes
that side's value, one both changed alike is kept, one both changed
differently is a conflict (``ConflictError``), and nothing is written.
Links and attributes this writer added get creation indexes after those
the other writer added.
"""
from __future__ import annotations

import random
import time
from typing import Optional

from .zarrmeta import RESERVED

_MISSING = object()

#: how often a writer re-reads and re-applies its change to a node or chunk other writers keep changing
RETRIES = 64


def backoff() -> None:
    """A short random pause, so writers that lost a race retry at different moments."""
    time.sleep(random.uniform(0.001, 0.02))


class FileChangedError(OSError):
    """Another process changed the file's metadata in a way this writer's
    changes cannot be merged with (see StoreFile._put_node)."""


class ConflictError(FileChangedError):
    """Two writers changed the same name (link, attribute, extent) differently."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _pick(base, mine, theirs, what: str):
    if mine == base or mine == theirs:
        return theirs
    if theirs == base:
        return mine
    raise ConflictError(f"{what} was changed by another writer")


def merge(base: Optional[dict], mine: dict, theirs: Optional[dict], node: str) -> dict:
    """The document holding both writers' changes to the node ``node``."""
    if theirs is None:
        raise ConflictError(f"{node} was deleted by another writer")
    if base is None:
        raise ConflictError(f"{node} was created by another writer too")
    out = {}
    for key in _keys(base, mine, theirs):
        if key == "attributes":
            value = _merge_attributes(base.get(key, {}), mine.get(key, {}), theirs.get(key, {}), node)
        else:
            value = _pick(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING),
                          f"{key!r} of {node}")
        if value is not _MISSING:
            out[key] = value
    return out


def _keys(*dicts) -> list:
    seen = {}
    for d in dicts:
        seen.update(dict.fromkeys(d))
    return list(seen)


def _merge_attributes(base: dict, mine: dict, theirs: dict, node: str) -> dict:
    out = {}
    for name in _keys(base, mine, theirs):
        if name == RESERVED:
            value = _merge_reserved(base.get(name, {}), mine.get(name, {}), theirs.get(name, {}), node)
        else:  # Zarr's plain view of an attribute: follows the exact one, merged the same way
            value = _pick(base.get(name, _MISSING), mine.get(name, _MISSING), theirs.get(name, _MISSING),
                          f"attribute {name!r} of {node}")
        if value is not _MISSING:
            out[name] = value
    return out


def _merge_reserved(base: dict, mine: dict, theirs: dict, node: str) -> dict:
    out = {}
    for key in _keys(base, mine, theirs):
        b, m, t = (d.get(key, _MISSING) for d in (base, mine, theirs))
        if key == "links":
            value = _merge_named(b, m, t, "link", node)
        elif key == "attrs":
            value = _merge_named(b, m, t, "attribute", node)
        elif key in ("generation", "next_id", "next_link_corder", "next_attribute_corder"):
            value = max(v for v in (m, t) if v is not _MISSING and v is not None)  # counters only grow
        elif key == "link_storage":  # follows the link count; either side's is as good
            value = m if m != b else t
        elif key == "regions":  # region-reference indexes are stored in data: appends must not move
            value = _merge_appended(b, m, t, f"the region reference table of {node}")
        else:
            value = _pick(b, m, t, f"{key!r} of {node}")
        if value is not _MISSING:
            out[key] = value
    if "generation" in out:
        out["generation"] += 1  # a flush that merged is a change too
    for key, entries in (("next_link_corder", out.get("links")), ("next_attribute_corder", out.get("attrs"))):
        if entries:
            out[key] = max(out.get(key, 0), 1 + max(e.get("corder", 0) for e in entries))
    return out


def _merge_named(base, mine, theirs, kind: str, node: str) -> list:
    """Link or attribute tables (lists of entries with a name and a creation
    index), merged per name; this writer's additions go after theirs."""
    base, mine, theirs = ([] if v is _MISSING or v is None else v for v in (base, mine, theirs))
    def by_name(entries):
        return {e["name"]: e for e in entries}
    def bare(entry):
        return _MISSING if entry is _MISSING else {k: v for k, v in entry.items() if k != "corder"}
    b, m, t = by_name(base), by_name(mine), by_name(theirs)
    out, added = [], []
    for name in _keys(t, m):
        chosen = _pick(bare(b.get(name, _MISSING)), bare(m.get(name, _MISSING)), bare(t.get(name, _MISSING)),
                       f"{kind} {name!r} of {node}")
        if chosen is _MISSING:
            continue
        if name in t and bare(t[name]) == chosen:
            out.append(t[name])
        elif name in t:
            out.append({**m[name], "corder": t[name].get("corder", 0)})
        else:
            added.append(dict(m[name]))
    next_index = 1 + max([e.get("corder", 0) for e in out] + [-1])
    theirs_added = any(name not in b for name in t)
    for entry in sorted(added, key=lambda e: e.get("corder", 0)):
        if theirs_added or entry.get("corder", 0) < next_index:
            entry["corder"] = next_index
        next_index = entry["corder"] + 1
        out.append(entry)
    return out


def _merge_appended(base, mine, theirs, what: str):
    base, mine, theirs = ([] if v is _MISSING or v is None else v for v in (base, mine, theirs))
    if mine == base:
        return theirs
    if theirs == base or theirs == mine:
        return mine
    raise ConflictError(f"{what} was added to by another writer")
