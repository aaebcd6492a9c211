"""Which connector serves a file name, and h5py files opened through it.

The tools (``h5pyvol copy``, ``pack``, ...) open a native HDF5 file and an
H5PyVOL file in one process, whatever ``HDF5_VOL_CONNECTOR`` says: each file
gets a file access property list naming its connector (H5Pset_vol).

A name is an H5PyVOL file when it is a URL (``s3://``, ``rados://``,
``mem://``, ``zip://``, ``file://``), a ``.zip`` archive, or a directory; a
native HDF5 file when it is a regular file that starts with HDF5's
signature.  A name that does not exist yet is native when it ends in one of
NATIVE_SUFFIXES, a directory store otherwise (``format=`` decides instead).
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional

import h5py

from .errors import H5PyVOLError
from .paths import plugin_dir

NATIVE = "native"
STORE = "store"
NATIVE_SUFFIXES = (".h5", ".hdf5", ".he5", ".hdf", ".nc", ".nc4")
_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class NotAnHDF5File(H5PyVOLError, ValueError):
    """A name that is neither a native HDF5 file nor an H5PyVOL file."""


def has_hdf5_signature(path: str) -> bool:
    """HDF5's superblock signature at 0 or after a user block of 512 * 2^n bytes."""
    with open(path, "rb") as f:
        offset = 0
        while True:
            f.seek(offset)
            head = f.read(8)
            if head == _SIGNATURE:
                return True
            if len(head) < 8:
                return False
            offset = 512 if offset == 0 else offset * 2


def is_url(name: str) -> bool:
    return "://" in name


def kind_of(name: str, format: Optional[str] = None) -> str:
    """NATIVE or STORE for a file name (see the module's text)."""
    if format is not None:
        if format not in (NATIVE, STORE):
            raise ValueError(f"format must be {NATIVE!r} or {STORE!r}, not {format!r}")
        return format
    if is_url(name) or name.endswith(".zip") or os.path.isdir(name):
        return STORE
    if os.path.isfile(name):
        if has_hdf5_signature(name):
            return NATIVE
        raise NotAnHDF5File(f"{name}: not an HDF5 file (no HDF5 signature) and not an H5PyVOL store")
    return NATIVE if name.lower().endswith(NATIVE_SUFFIXES) else STORE


# --------------------------------------------------------------- connectors

_connector_ids: dict[str, int] = {}


def _lib():
    from .h5py_compat import hdf5
    return hdf5._lib


def _connector_id(kind: str) -> int:
    if kind not in _connector_ids:
        lib = _lib()
        lib.H5VLregister_connector_by_name.restype = ctypes.c_int64
        lib.H5VLregister_connector_by_name.argtypes = [ctypes.c_char_p, ctypes.c_int64]
        if kind == STORE:
            # the plugin must be found whatever HDF5_PLUGIN_PATH says
            lib.H5PLprepend.argtypes = [ctypes.c_char_p]
            lib.H5PLprepend(plugin_dir().encode())
        vid = lib.H5VLregister_connector_by_name(b"H5PyVOL" if kind == STORE else b"native", 0)
        if vid < 0:
            raise H5PyVOLError(f"HDF5 could not load the {kind} connector "
                               f"({'the H5PyVOL plugin in ' + plugin_dir() if kind == STORE else 'native'})")
        _connector_ids[kind] = vid
    return _connector_ids[kind]


def fapl(kind: str) -> h5py.h5p.PropFAID:
    """A file access property list for ``kind``'s connector."""
    plist = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    plist.set_fclose_degree(h5py.h5f.CLOSE_STRONG)  # closing the file closes what is open in it, as h5py.File does
    lib = _lib()
    lib.H5Pset_vol.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    if lib.H5Pset_vol(plist.id, _connector_id(kind), None) < 0:
        raise H5PyVOLError(f"H5Pset_vol failed for the {kind} connector")
    if kind == NATIVE:
        plist.set_libver_bounds(h5py.h5f.LIBVER_EARLIEST, h5py.h5f.LIBVER_LATEST)
    return plist


def open_file(name: str, mode: str = "r", *, format: Optional[str] = None,
              fcpl: Optional[h5py.h5p.PropFCID] = None) -> h5py.File:
    """``h5py.File(name, mode)`` through the connector that serves ``name``.

    mode: "r", "r+", "w" (truncate), "w-"/"x" (fail if it exists), "a"."""
    kind = kind_of(name, format)
    access = fapl(kind)
    encoded = os.fsencode(name)
    if mode == "a":
        exists = (os.path.exists(name) if kind == NATIVE else _store_exists(name, access))
        mode = "r+" if exists else "w-"
    if mode in ("r", "r+"):
        flags = h5py.h5f.ACC_RDONLY if mode == "r" else h5py.h5f.ACC_RDWR
        fid = h5py.h5f.open(encoded, flags, fapl=access)
    elif mode in ("w", "w-", "x"):
        flags = h5py.h5f.ACC_TRUNC if mode == "w" else h5py.h5f.ACC_EXCL
        fid = h5py.h5f.create(encoded, flags, fapl=access, fcpl=fcpl)
    else:
        raise ValueError(f"mode must be r, r+, w, w-, x or a, not {mode!r}")
    return h5py.File(fid)


def _store_exists(name: str, access) -> bool:
    from .h5py_compat import hdf5
    lib = hdf5._lib
    lib.H5Fis_accessible.argtypes = [ctypes.c_char_p, ctypes.c_int64]
    return lib.H5Fis_accessible(os.fsencode(name), access.id) > 0


def connector_of(obj) -> str:
    """NATIVE or STORE for an open h5py object."""
    from .h5py_compat import hdf5
    return STORE if hdf5.connector_name(obj.id.id) == "H5PyVOL" else NATIVE
