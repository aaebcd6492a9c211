"""``h5pyvol rechunk FILE DATASET --chunks ...``: a dataset of a store gets
new chunk dimensions, atomically for readers.

The new layout is written beside the old one, under the other of Zarr v3's
two chunk key encodings ("<node>/c/i/j" and "<node>/i.j"), so neither
overwrites the other; then the dataset's ``zarr.json`` is replaced in one
atomic write that names the new grid and keys; only then are the old chunks
deleted.  A reader that opens the dataset before the swap reads the old
layout whole, one that opens it after reads the new one whole.  The old
chunks go GRACE_SECONDS after the swap, so reads under way then finish; a
reader that read the old layout and reads again after they are gone finds
chunks missing, checks the document, and gets an error telling it to
refresh instead of fill values (StoreDataset._layout_still_current).

The node keeps its path, so zarr-python still finds the array where it was.
Another process must not write the dataset while it is rechunked: its
writes to the old layout would be deleted with it.
"""
from __future__ import annotations

import ctypes
import itertools
import math
import time
from typing import Callable, Union

import numpy as np

from .. import files
from ..errors import H5PyVOLError
from ..filters import is_lossy
from ..selection import Selection
from ..store.chunks import DEFAULT_KEY_ENCODING, ChunkedArray
from .copy import CopyError, Summary
from .progress import Progress

V2_KEY_ENCODING = {"name": "v2", "configuration": {"separator": "."}}


def _other_encoding(encoding: dict) -> dict:
    return dict(DEFAULT_KEY_ENCODING) if encoding.get("name") == "v2" else dict(V2_KEY_ENCODING)


def _dcpl_with_chunks(dcpl: bytes, chunks: tuple) -> bytes:
    """The encoded creation list ``dcpl`` with chunked layout and ``chunks``."""
    from ..h5py_compat import hdf5
    lib = hdf5._lib
    lib.H5Pdecode.restype = ctypes.c_int64
    lib.H5Pdecode.argtypes = [ctypes.c_char_p]
    lib.H5Pset_chunk.argtypes = [ctypes.c_int64, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64)]
    lib.H5Pencode2.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_int64]
    plist = lib.H5Pdecode(dcpl)
    if plist < 0:
        hdf5.raise_from_stack("H5Pdecode")
    try:
        dims = (ctypes.c_uint64 * len(chunks))(*chunks)
        if lib.H5Pset_chunk(plist, len(chunks), dims) < 0:
            hdf5.raise_from_stack("H5Pset_chunk")
        size = ctypes.c_size_t(0)
        if lib.H5Pencode2(plist, None, ctypes.byref(size), 0) < 0:
            hdf5.raise_from_stack("H5Pencode2")
        buf = ctypes.create_string_buffer(size.value)
        lib.H5Pencode2(plist, buf, ctypes.byref(size), 0)
        return buf.raw[:size.value]
    finally:
        hdf5.H5Pclose(plist)


def _dataset(store_file, path: str):
    from .._dispatch import _walk
    from ..store.connector import StoreDataset
    try:
        obj = _walk(store_file, path)
    except KeyError as exc:
        raise CopyError(f"{store_file.filename}: no dataset {path} ({exc})") from None
    if not isinstance(obj, StoreDataset):
        raise CopyError(f"{store_file.filename}: {path} is not a dataset")
    return obj


GRACE_SECONDS = 2.0


def rechunk(name: str, dataset: str, chunks: tuple, *, progress: Union[bool, Callable] = False,
            grace: float = GRACE_SECONDS) -> Summary:
    """Gives ``dataset`` of the store file ``name`` the chunk dimensions
    ``chunks``; returns what it moved.  The old chunks are deleted ``grace``
    seconds after the swap."""
    if files.kind_of(name) == files.NATIVE:
        raise CopyError(f"{name} is a native HDF5 file; h5pyvol rechunk changes H5PyVOL files "
                        f"(natively: h5repack -l {dataset}:CHUNK={'x'.join(map(str, chunks))})")
    import h5py  # noqa: F401  (loads the libhdf5 the creation lists are encoded with)
    from ..store.connector import StoreVOL
    started = time.monotonic()
    vol = StoreVOL()
    store_file = vol.open_file(name, "r+")
    try:
        ds = _dataset(store_file, dataset)
        shape, chunks = tuple(ds.shape or ()), tuple(int(c) for c in chunks)
        if ds.null or not shape:
            raise CopyError(f"{dataset} has no elements to chunk (a null or scalar dataspace)")
        if len(chunks) != len(shape) or min(chunks) < 1:
            raise CopyError(f"{dataset} has rank {len(shape)}: --chunks needs {len(shape)} positive sizes")
        if ds.creation.layout == "virtual":
            raise CopyError(f"{dataset} is a virtual dataset: its elements live in its sources")
        if is_lossy(ds.creation):
            raise CopyError(f"{dataset} has a value-changing filter (scale-offset), which only HDF5 applies: "
                            f"copy it with h5pyvol copy into a dataset made with the new chunks instead")
        maxshape = ds.maxshape or shape
        if any(m is not None and c > m for c, m in zip(chunks, maxshape)) and ds.creation.layout != "chunked":
            raise CopyError(f"chunks {chunks} exceed the fixed maximum extent {maxshape}")
        old = ds.array
        new_encoding = _other_encoding(ds.chunk_key_encoding)
        new = ChunkedArray(old.kv, old.prefix, shape, chunks, ds.dtype, old.codec, ds._chunk_fill, old.executor,
                           key_encoding=new_encoding)
        summary = _move(old, new, progress)
        ds.chunk_shape = chunks
        ds.chunk_key_encoding = new_encoding
        ds.creation.chunks = chunks
        ds.creation.layout = "chunked"
        if ds.creation.dcpl:
            ds.creation.dcpl = _dcpl_with_chunks(ds.creation.dcpl, chunks)
        ds.touch()
        store_file.flush()        # the swap: one atomic write of the dataset's zarr.json
        time.sleep(grace)         # reads of the old layout under way when it happened finish
        old.delete()              # then the old layout goes
        summary.objects = 1
    finally:
        store_file.close()
    summary.seconds = time.monotonic() - started
    return summary


def _move(old: ChunkedArray, new: ChunkedArray, progress) -> Summary:
    """Copies every element from ``old`` to ``new`` in slabs of whole new
    chunks along the first axis; slabs where ``old`` has no chunk at all
    stay unwritten (they read as the fill value in both)."""
    summary = Summary()
    shape, itemsize = old.shape, old.dtype.itemsize
    present = {tuple(int(p) for p in key[len(old.keys_prefix()):].strip("/").replace(old.separator, "/").split("/"))
               for key in old.kv.list(old.keys_prefix()) if _is_chunk_of(old, key)}
    rows = new.chunks[0] * max(1, (64 << 20) // max(1, new.chunks[0] * math.prod(shape[1:]) * itemsize))
    total = math.prod(shape) * itemsize
    with Progress(progress, total_bytes=total, description="rechunk") as bar:
        for start in range(0, shape[0], rows):
            stop = min(start + rows, shape[0])
            count = (stop - start,) + tuple(shape[1:])
            nbytes = math.prod(count) * itemsize
            first, last = start // old.chunks[0], (stop - 1) // old.chunks[0]
            if not any(index[0] in range(first, last + 1) for index in present):
                summary.pieces_skipped += 1
                summary.bytes_skipped += nbytes
                bar.advance(nbytes)
                continue
            sel = Selection("hyperslab", shape, start=(start,) + (0,) * (len(shape) - 1),
                            stride=(1,) * len(shape), count=count, block=(1,) * len(shape))
            new.write(sel, old.read(sel))
            summary.pieces += 1
            summary.bytes += nbytes
            bar.advance(nbytes)
    return summary


def _is_chunk_of(array: ChunkedArray, key: str) -> bool:
    from ..store.chunks import is_v2_chunk_key
    rest = key[len(array.keys_prefix()):]
    if array.v2_keys:
        return is_v2_chunk_key(rest, array.separator)
    return rest == "" or (rest.startswith("/") and all(p.isdigit() for p in rest[1:].split("/")))
