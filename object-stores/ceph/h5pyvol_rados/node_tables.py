"""A node's link and attribute tables as omap entries of its zarr.json object.

The store connector describes every node in one zarr.json document whose
reserved attribute ``_h5pyvol`` carries the group's links and the object's
attributes: lists that grow with the node.  On RADOS they live as omap
entries of the zarr.json object instead, one per link or attribute, keyed
``l<seq>`` / ``a<seq>`` so that the omap's sorted order is the table's
order.  The object's data is the document without those lists (all a Zarr
reader needs) plus how many entries each table has, which lets a reader
check it saw the whole omap.  A flush that adds one link to a group of
100 000 then sends one omap entry instead of rewriting the whole table
(RadosKV keeps what it last wrote or read to compute that difference).
"""
from __future__ import annotations

import json
from typing import Optional

RESERVED = "_h5pyvol"
MARK = "omap_tables"  # in the reserved attribute: {table: entry count}
TABLES = {"links": "l", "attrs": "a"}  # reserved list -> omap key prefix
SEQ_DIGITS = 12


def omap_key(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:0{SEQ_DIGITS}d}"


def _encode(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True).encode()


def split(document: bytes) -> tuple[bytes, dict]:
    """(the document without its tables, {table: [entry dict, ...]}).
    Documents without tables (a foreign Zarr node) come back unchanged."""
    try:
        doc = json.loads(document)
        reserved = doc["attributes"][RESERVED]
    except (ValueError, KeyError, TypeError):
        return bytes(document), {}
    if not isinstance(reserved, dict) or not any(isinstance(reserved.get(t), list) for t in TABLES):
        return bytes(document), {}
    tables = {t: reserved.pop(t) for t in TABLES if isinstance(reserved.get(t), list)}
    reserved[MARK] = {t: len(entries) for t, entries in tables.items()}
    return json.dumps(doc, sort_keys=True).encode(), tables


def parse_stored(data: bytes) -> Optional[tuple[dict, dict]]:
    """(the document, {table: entry count}) of a stored document whose
    tables are in omap; None for one that keeps everything in its bytes."""
    try:
        doc = json.loads(data)
        found = doc["attributes"][RESERVED][MARK]
    except (ValueError, KeyError, TypeError):
        return None
    return (doc, found) if isinstance(found, dict) else None


def _parse_entry(key: str, value) -> tuple[str, int, dict]:
    """(name, sequence number, entry) of one stored omap entry; ValueError
    naming the omap key when it is not one this module wrote."""
    try:
        entry = json.loads(value)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"expected an object with a name, got {str(value)[:60]!r}")
        return entry["name"], int(key[1:]), entry
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError included; json.loads(None): TypeError
        raise ValueError(f"omap entry {key!r} is damaged: {type(exc).__name__}: {exc}") from None


class TableState:
    """What one zarr.json object's omap holds, as this process last wrote or
    read it: per table, in order, each entry's name, sequence number and
    contents (compared as dicts: only new or changed entries are encoded)."""

    def __init__(self, version: int, tables: dict):
        self.version = version
        self.tables = tables  # table -> list of (name, seq, entry dict)

    @classmethod
    def from_entries(cls, version: int, entries: dict) -> "TableState":
        """From an omap as read ({key: bytes})."""
        tables = {}
        for table, prefix in TABLES.items():
            rows = []
            for key in sorted(k for k in entries if k.startswith(prefix)):
                name, seq, entry = _parse_entry(key, entries[key])
                rows.append((name, seq, entry))
            tables[table] = rows
        return cls(version, tables)

    def merge(self, doc: dict) -> bytes:
        """The whole document: the stored one (as parse_stored gave it; it
        is changed) with the tables put back."""
        reserved = doc["attributes"][RESERVED]
        for table in reserved.pop(MARK):
            reserved[table] = [entry for _, _, entry in self.tables.get(table, [])]
        return json.dumps(doc, sort_keys=True).encode()

    def matches(self, expected: dict) -> bool:
        return all(len(self.tables.get(t, [])) == n for t, n in expected.items())

    @classmethod
    def fresh(cls, new_tables: dict) -> tuple["TableState", dict]:
        """The state after writing ``new_tables`` from scratch, and the omap
        entries to set."""
        tables, to_set = {}, {}
        for table, entries in new_tables.items():
            tables[table] = [(entry["name"], seq, entry) for seq, entry in enumerate(entries)]
            to_set.update({omap_key(TABLES[table], seq): _encode(entry) for seq, entry in enumerate(entries)})
        return cls(0, tables), to_set

    def delta(self, new_tables: dict) -> Optional[tuple["TableState", dict, list]]:
        """(new state, entries to set, keys to remove) turning this state
        into ``new_tables`` in place, or None when the order changed in a way
        only a rewrite expresses (a name moved, or a new one in the middle)."""
        tables, to_set, to_remove = {}, {}, []
        for table in set(self.tables) | set(new_tables):
            prefix = TABLES[table]
            old = {name: (seq, entry) for name, seq, entry in self.tables.get(table, [])}
            next_seq = max((seq for seq, _ in old.values()), default=-1) + 1
            rows, last_seq, seen_new = [], -1, False
            for entry in new_tables.get(table, []):
                name = entry["name"]
                if name in old:
                    seq, stored = old.pop(name)
                    if seq < last_seq or seen_new:
                        return None
                    if stored != entry:
                        to_set[omap_key(prefix, seq)] = _encode(entry)
                else:
                    seq, next_seq, seen_new = next_seq, next_seq + 1, True
                    to_set[omap_key(prefix, seq)] = _encode(entry)
                last_seq = seq
                rows.append((name, seq, entry))
            to_remove += [omap_key(prefix, seq) for seq, _ in old.values()]
            tables[table] = rows
        return TableState(self.version, tables), to_set, to_remove
