"""File name -> key-value backend.

A plain path or a file:// URL is a directory store at that path; mem://name
is an in-process memory store (it lives as long as the process); zip://path
or a path ending in .zip is a Zarr zip archive, read-only.  Other
schemes (s3://, rados://) are registered by the object-store packages with
:func:`register_scheme`.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Optional
from urllib.parse import unquote, urlparse

from .kv import DirectoryKV, KVStore, MemoryKV
from .zipkv import ZipKV

_memory_stores: dict[str, MemoryKV] = {}
_schemes: dict[str, Callable[[str, dict], KVStore]] = {}
_broken: dict[str, str] = {}  # backends that failed to load: why


def register_scheme(scheme: str, factory: Callable[[str, dict], KVStore]) -> None:
    """``factory(url, options)`` returns the backend for a file URL; its
    attribute ``options`` (a tuple) lists the connector-info keys it reads."""
    _schemes[scheme] = factory


def backend_options() -> set[str]:
    """The connector-info keys every installed backend reads."""
    _load_plugins()
    return {key for factory in _schemes.values() for key in getattr(factory, "options", ())}


# schemes a name may be meant as even when no backend for them is installed:
# "s3:/bucket/f.h5" is a mistyped URL, never a local directory named "s3:"
KNOWN_SCHEMES = {"s3", "rados", "file", "mem", "zip", "http", "https", "gs", "gcs", "az", "abfs", "hdfs",
                 "ftp", "sftp"}
_URL_LIKE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!//)")


def _check_not_url_like(name: str) -> None:
    like = _URL_LIKE.match(name)
    if like and (like.group(1).lower() in KNOWN_SCHEMES or like.group(1) in _schemes):
        scheme = like.group(1)
        raise ValueError(f"{name!r} looks like a {scheme}:// URL but is not one (expected {scheme}://...); "
                         f"a local file of that name is ./{name}")


def backend_for(name: str, options: dict, fsync: bool = False) -> KVStore:
    scheme, sep, rest = name.partition("://")
    if not sep:
        _check_not_url_like(name)
        if name.lower().endswith(".zip"):
            return ZipKV(name)
        return DirectoryKV(name, fsync=fsync)
    if not rest.strip("/"):
        raise ValueError(f"{name!r} names no file (expected {scheme}://<where>/<file>)")
    if scheme == "mem":
        return _memory_stores.setdefault(rest, MemoryKV(rest))
    if scheme == "zip":
        return ZipKV(name)
    if scheme == "file":
        parsed = urlparse(name)
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"{name!r} names host {parsed.netloc!r}: file:// URLs name this machine's files only "
                             f"(file:///path)")
        return DirectoryKV(unquote(parsed.path), fsync=fsync)
    if scheme not in _schemes:
        _load_plugins()
    if scheme in _schemes:
        return _schemes[scheme](name, options)
    if scheme in _broken:
        raise NotImplementedError(f"the H5PyVOL store backend for {scheme}:// URLs is installed but failed to "
                                  f"load: {_broken[scheme]}")
    raise NotImplementedError(f"no H5PyVOL store backend for {scheme}:// URLs")


def under_root(root: Optional[str], name: str) -> str:
    """``name`` placed under ``root`` (connector option) unless it is a URL
    or an absolute path: an unmodified C program's "data.h5" becomes
    s3://bucket/prefix/data.h5."""
    if not root or "://" in name or os.path.isabs(name):
        return name
    if ".." in name.split("/"):
        raise ValueError(f"{name!r} climbs out of root={root!r}: a name under root= may not contain '..'")
    return (root if root.endswith("/") else root + "/") + name


def check_root(root: Optional[str]) -> None:
    """A ``root`` that could only misplace files is an error at start-up."""
    if not root:
        return
    scheme, sep, rest = root.partition("://")
    if not sep:
        _check_not_url_like(root)
        return
    if not rest.strip("/"):
        what = {"s3": "bucket", "rados": "pool"}.get(scheme, "location")
        raise ValueError(f"root={root!r} names no {what} (expected e.g. {scheme}://{what}/prefix)")


def _load_plugins() -> None:
    """Object-store backends announce themselves as entry points."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="h5pyvol.backends"):
        if entry.name in _schemes:
            continue
        try:
            register_scheme(entry.name, entry.load())
            _broken.pop(entry.name, None)
        except Exception as exc:  # a broken optional backend must not break the others
            _broken[entry.name] = f"{type(exc).__name__}: {exc}"


def broken_backends() -> dict[str, str]:
    """Installed backends that could not be loaded, with the reason."""
    _load_plugins()
    return dict(_broken)
