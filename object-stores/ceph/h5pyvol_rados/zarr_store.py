"""A zarr-python (v3) store over one RADOS namespace, so Zarr readers and
writers see the same keys H5PyVOL writes to ``rados://pool/path/file.h5``:

    from h5pyvol_rados.zarr_store import RadosStore
    root = zarr.open_group(store=RadosStore.from_url("rados://pool/path/file.h5"), mode="r")

Keys go through RadosKV, so a zarr.json whose link and attribute tables
live in omap reads back whole.  librados calls block: they run on worker
threads (asyncio.to_thread), as zarr's LocalStore does with file I/O.
"""
from __future__ import annotations

import asyncio
import os
from typing import AsyncIterator, Iterable

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, Store, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

from . import backend
from .kv import METADATA, RadosKV


class RadosStore(Store):
    supports_writes = True
    supports_deletes = True
    supports_listing = True
    supports_partial_writes = False

    def __init__(self, kv: RadosKV, *, read_only: bool = False):
        super().__init__(read_only=read_only)
        self.kv = kv

    @classmethod
    def from_url(cls, url: str, *, read_only: bool = False, **options) -> "RadosStore":
        """``rados://pool/namespace``; the cluster from CEPH_CONF unless
        ``ceph_conf=`` (and ``client=``, ``op_timeout=``) say otherwise."""
        options.setdefault("ceph_conf", os.environ.get("CEPH_CONF", "/etc/ceph/ceph.conf"))
        return cls(backend(url, options), read_only=read_only)

    def with_read_only(self, read_only: bool = False) -> "RadosStore":
        return type(self)(self.kv, read_only=read_only)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RadosStore) and self.kv.describe() == other.kv.describe() \
            and self.read_only == other.read_only

    def __str__(self) -> str:
        return self.kv.describe()

    def __repr__(self) -> str:
        return f"RadosStore({str(self)!r})"

    # -- reading ----------------------------------------------------------------------
    def _get(self, key: str, byte_range: ByteRequest | None):
        # a ranged read of zarr.json would miss the tables kept in its omap,
        # and an open-ended range needs the size: both read the whole value
        if isinstance(byte_range, RangeByteRequest) and not key.endswith(METADATA):
            return self.kv.get_range(key, byte_range.start, byte_range.end - byte_range.start)
        value = self.kv.get(key)
        if value is None or byte_range is None:
            return value
        start, stop = _bounds(byte_range, len(value))
        return value[start:stop]

    async def get(self, key: str, prototype: BufferPrototype | None = None,
                  byte_range: ByteRequest | None = None) -> Buffer | None:
        prototype = prototype or default_buffer_prototype()
        value = await asyncio.to_thread(self._get, key, byte_range)
        return None if value is None else prototype.buffer.from_bytes(value)

    async def get_partial_values(self, prototype: BufferPrototype,
                                 key_ranges: Iterable[tuple[str, ByteRequest | None]]) -> list[Buffer | None]:
        return list(await asyncio.gather(*(self.get(k, prototype, r) for k, r in key_ranges)))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.kv.exists, key)

    # -- writing ----------------------------------------------------------------------
    async def set(self, key: str, value: Buffer) -> None:
        self._check_writable()
        await asyncio.to_thread(self.kv.put, key, value.to_bytes())

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        self._check_writable()
        await asyncio.to_thread(self.kv.put_if_absent, key, value.to_bytes())

    async def delete(self, key: str) -> None:
        self._check_writable()
        await asyncio.to_thread(self.kv.delete, key)

    # -- listing ----------------------------------------------------------------------
    async def list(self) -> AsyncIterator[str]:
        for key in await asyncio.to_thread(lambda: list(self.kv.list())):
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in await asyncio.to_thread(lambda: list(self.kv.list(prefix))):
            yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        base = prefix.rstrip("/") + "/" if prefix.rstrip("/") else ""
        seen = set()
        for key in await asyncio.to_thread(lambda: list(self.kv.list(base))):
            child = key[len(base):].split("/", 1)[0]
            if child and child not in seen:
                seen.add(child)
                yield child


def _bounds(byte_range: ByteRequest, size: int) -> tuple[int, int]:
    if isinstance(byte_range, RangeByteRequest):
        return byte_range.start, min(byte_range.end, size)
    if isinstance(byte_range, OffsetByteRequest):
        return byte_range.offset, size
    if isinstance(byte_range, SuffixByteRequest):
        return max(size - byte_range.suffix, 0), size
    raise TypeError(f"unexpected byte range {byte_range!r}")
