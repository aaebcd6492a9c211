"""``h5pyvol pack FILE ARCHIVE.zip`` and ``h5pyvol unpack ARCHIVE.zip DST``.

An archive is a Zarr zip store: the store's keys as members at the archive's
root, uncompressed (chunks are compressed already), so zarr-python's
``ZipStore`` opens it and H5PyVOL opens it read-only by its name.  A store
is packed key by key; a native file is first copied into a directory store
beside the archive.  Both write the root's ``zarr.json`` last, so an
interrupted run never leaves something that opens as a whole file: pack
writes ARCHIVE.zip under a temporary name and renames it when complete;
unpack into a store resumes, moving only the keys DST lacks.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Union

from .. import files
from ..store.connector import METADATA
from . import storeview
from .copy import CopyError, Summary, copy
from .progress import Progress


def _keys_root_last(kv) -> list[str]:
    keys = sorted(kv.list(""))
    if METADATA in keys:
        keys.remove(METADATA)
        keys.append(METADATA)
    return keys


def pack(src: str, archive: str, *, progress: Union[bool, Callable] = False, overwrite: bool = False) -> Summary:
    """Writes the HDF5 file ``src`` (any connector) into the zip archive
    ``archive``."""
    if not archive.lower().endswith(".zip"):
        raise CopyError(f"{archive}: an archive's name ends in .zip")
    if os.path.exists(archive) and not overwrite:
        raise CopyError(f"{archive} exists (use overwrite to replace it)")
    started = time.monotonic()
    staging = None
    try:
        if files.kind_of(src) == files.NATIVE:
            staging = tempfile.mkdtemp(prefix=".h5pyvol-pack-", dir=os.path.dirname(os.path.abspath(archive)))
            copy(src, os.path.join(staging, "store"), progress=progress, dst_format=files.STORE)
            src = os.path.join(staging, "store")
        summary = _zip_store(storeview.open_kv(src), archive, progress)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    return summary


def _zip_store(kv, archive: str, progress) -> Summary:
    keys = _keys_root_last(kv)
    if not keys or keys[-1] != METADATA:
        raise CopyError(f"{kv.describe()}: not an H5PyVOL file (no {METADATA} at its root)")
    summary = Summary(unit="keys")
    partial = archive + ".partial"
    with Progress(progress, total_bytes=0, description="pack") as bar, \
            ThreadPoolExecutor(8) as pool, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        # values are fetched ahead on threads (object-store latency), written in order
        for key, value in zip(keys, pool.map(kv.get, keys)):
            if value is None:
                continue  # deleted while packing
            zf.writestr(key, value)
            summary.pieces += 1
            summary.bytes += len(value)
            bar.advance(len(value))
    os.replace(partial, archive)
    return summary


def unpack(archive: str, dst: str, *, progress: Union[bool, Callable] = False, overwrite: bool = False,
           jobs: int = 8, dst_format: Optional[str] = None) -> Summary:
    """Makes a writable file ``dst`` (any connector) of the archive."""
    if not os.path.isfile(archive):
        raise FileNotFoundError(f"{archive}: no such archive")
    if files.kind_of(dst, dst_format) == files.NATIVE:
        return copy(f"zip://{archive}", dst, progress=progress, overwrite=overwrite, dst_format=files.NATIVE,
                    jobs=jobs)
    started = time.monotonic()
    source = storeview.open_kv(f"zip://{archive}")
    target = storeview.open_kv(dst)
    if target.exists(METADATA) and not overwrite:
        raise CopyError(f"{dst} exists (use overwrite to replace it)")
    if overwrite:
        target.delete_prefix("")
    target.prepare_create()
    present = set(target.list(""))
    keys = _keys_root_last(source)
    summary = Summary(unit="keys")
    todo = [k for k in keys if k not in present or k.endswith(METADATA) or not _is_chunk(k)]
    skipped = set(keys).difference(todo)
    summary.pieces_skipped = len(skipped)
    with Progress(progress, total_bytes=source.total_size(), description="unpack",
                  done_bytes=sum(source.total_size(k) for k in skipped)) as bar, \
            ThreadPoolExecutor(max(1, jobs)) as pool:
        def move(key):
            value = source.get(key)
            target.put(key, value)
            return len(value)
        body, root = todo[:-1], todo[-1:]
        for nbytes in pool.map(move, body):
            summary.pieces += 1
            summary.bytes += nbytes
            bar.advance(nbytes)
        for key in root:  # the root last: until it lands, DST is not a file
            nbytes = move(key)
            summary.pieces += 1
            summary.bytes += nbytes
            bar.advance(nbytes)
    summary.seconds = time.monotonic() - started
    return summary


def _is_chunk(key: str) -> bool:
    """Chunk keys (".../c/1/2") never change within one archive; nodes'
    documents and counters may be newer in a half-unpacked DST."""
    parts = key.split("/")
    return "c" in parts[:-1] or key.endswith("/c")
