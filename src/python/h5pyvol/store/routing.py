"""File name -> key-value backend.

A plain path or a file:// URL is a directory store at that path; mem://name
is an in-process memory store (it lives as long as the process); zip://path
or a path ending in .zip is a Zarr zip archive, read-only.  Other
schemes (s3://, rados://) are registered by the object-store packages with
:func:`register_scheme`.
"""
from __future__ import annotations

from typing import Callable
from urllib.parse import unquote, urlparse

from .kv import DirectoryKV, KVStore, MemoryKV
from .zipkv import ZipKV

_memory_stores: dict[str, MemoryKV] = {}
_schemes: dict[str, Callable[[str, dict], KVStore]] = {}


def register_scheme(scheme: str, factory: Callable[[str, dict], KVStore]) -> None:
    """``factory(url, options)`` returns the backend for a file URL."""
    _schemes[scheme] = factory


def backend_for(name: str, options: dict, fsync: bool = False) -> KVStore:
    if name.startswith("mem://"):
        key = name[len("mem://"):]
        return _memory_stores.setdefault(key, MemoryKV(key))
    if name.startswith("zip://") or (name.lower().endswith(".zip") and "://" not in name):
        return ZipKV(name)
    if name.startswith("file://"):
        return DirectoryKV(unquote(urlparse(name).path), fsync=fsync)
    scheme = name.split("://", 1)[0] if "://" in name else None
    if scheme is None:
        return DirectoryKV(name, fsync=fsync)
    if scheme not in _schemes:
        _load_plugins()
    if scheme in _schemes:
        return _schemes[scheme](name, options)
    raise NotImplementedError(f"no H5PyVOL store backend for {scheme}:// URLs")


def _load_plugins() -> None:
    """Object-store backends announce themselves as entry points."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="h5pyvol.backends"):
        try:
            register_scheme(entry.name, entry.load())
        except Exception:  # a broken optional backend must not break the others
            continue
