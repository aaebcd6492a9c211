"""HDF5 link names as safe store keys.

Any HDF5 link name (spaces, unicode, dots, "%") maps to one path segment
that cannot climb out of the store: percent-encoding of everything outside
[A-Za-z0-9._~-], plus the names a key may not take ("", ".", "..",
names starting with ".", "zarr.json").  Ordinary names stay as they are, so Zarr readers see them.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

#: where anonymous objects live until first linked; "%" never appears unescaped in encoded names
ANONYMOUS = "%anon"


def encode(name: str) -> str:
    segment = quote(name, safe="", errors="surrogateescape") if name else "%00"
    # "."/".." would climb, "zarr.json" is a node's metadata, ".tmp-*" a write in progress
    if segment.startswith(".") or segment == "zarr.json":
        segment = segment.replace(".", "%2E")
    return segment


def decode(segment: str) -> str:
    return "" if segment == "%00" else unquote(segment, errors="surrogateescape")


def child(parent: str, name: str) -> str:
    """Node path of link ``name`` in the group at node path ``parent``."""
    return (parent + "/" if parent else "") + encode(name)


def check_path(url: str, path: str) -> None:
    """A file's place inside a bucket or pool names no "." or ".."
    segment: an object store keeps them literally, where every other tool
    would resolve them, so the file would not be where its name says."""
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError(f"{url!r}: '.' and '..' are not path segments in an object store URL")
