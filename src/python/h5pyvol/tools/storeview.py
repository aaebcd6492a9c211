"""What the tools read of a store file directly from its keys, beside HDF5:
which node holds an object, which chunks a dataset has, every key there is.

HDF5's API cannot say whether a chunk of an H5PyVOL dataset exists (that is
a native-only call); the keys can, so a copy skips chunks the source never
wrote and, resumed, chunks the destination already has.
"""
from __future__ import annotations

import json
from typing import Iterator, Optional

from ..store.connector import METADATA
from ..store.kv import KVStore
from ..store.chunks import is_v2_chunk_key
from ..store.routing import backend_for


def open_kv(name: str) -> KVStore:
    return backend_for(name, {})


def document(kv: KVStore, node: str) -> Optional[dict]:
    raw = kv.get((node + "/" if node else "") + METADATA)
    return None if raw is None else json.loads(raw)


def _meta(doc: dict) -> dict:
    return doc.get("attributes", {}).get("_h5pyvol", {})


def node_of(kv: KVStore, path: str) -> Optional[str]:
    """The node holding the object at HDF5 path ``path`` (hard links
    followed), or None when a link on the way is missing or not hard."""
    node = ""
    for name in [p for p in path.split("/") if p]:
        doc = document(kv, node)
        if doc is None:
            return None
        links = {link["name"]: link for link in _meta(doc).get("links", [])}
        link = links.get(name)
        if link is None or link.get("type") != "hard":
            return None
        node = link["node"]
    return node


def chunk_grid(doc: dict) -> Optional[tuple]:
    grid = doc.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape")
    return None if grid is None else tuple(grid)


def present_chunks(kv: KVStore, node: str, doc: Optional[dict] = None) -> set:
    """Indexes of the chunks stored for the array at ``node`` (under the
    chunk key encoding its document names)."""
    encoding = (doc or document(kv, node) or {}).get("chunk_key_encoding", {"name": "default"})
    if encoding.get("name") == "v2":
        separator = encoding.get("configuration", {}).get("separator", ".")
        base = node + "/" if node else ""
        present = set()
        for key in kv.list(base):
            rest = key[len(base):]
            if is_v2_chunk_key(rest, separator):
                present.add(tuple(int(p) for p in rest.split(separator)))
        return present
    prefix = (node + "/" if node else "") + "c"
    present = set()
    for key in kv.list(prefix):
        rest = key[len(prefix):]
        if rest == "":
            present.add(())
        elif rest.startswith("/"):
            try:
                present.add(tuple(int(p) for p in rest[1:].split("/")))
            except ValueError:
                continue  # not a chunk key
    return present


def all_keys(kv: KVStore) -> Iterator[str]:
    return kv.list("")
