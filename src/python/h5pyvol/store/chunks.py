"""Chunked n-dimensional storage on a key-value store, in numpy.

One dataset is a grid of chunks stored under Zarr v3's default chunk keys
("<node>/c/<i>/<j>", "<node>/c" for 0-d arrays), or Zarr v3's "v2" keys
("<node>/<i>.<j>", "<node>/0" for 0-d arrays), which ``h5pyvol rechunk``
writes a new layout under beside the old one.  Reads fetch every touched
chunk concurrently; writes that cover a chunk only partly read it first
(read-modify-write), and all stores run concurrently, so object-store
latency overlaps.  Missing chunks read as the fill value.
"""
from __future__ import annotations

import errno
import itertools
import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numcodecs
import numpy as np

from ..selection import Selection
from .chunkcache import ChunkCache
from .kv import KVStore, in_parallel
from .merge import RETRIES, FileChangedError, backoff
from .zarrmeta import elements_from_json, elements_to_json


def _compressor(codec: dict):
    name, conf = codec["name"], codec.get("configuration", {})
    if name == "gzip":
        return numcodecs.GZip(level=conf.get("level", 4))
    if name == "zstd":
        return numcodecs.Zstd(level=conf.get("level", 3))
    if name == "blosc":
        shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}.get(conf.get("shuffle", "shuffle"), 1)
        return numcodecs.Blosc(cname=conf.get("cname", "lz4"), clevel=conf.get("clevel", 5), shuffle=shuffle,
                               blocksize=conf.get("blocksize", 0))
    raise NotImplementedError(f"Zarr codec {name!r} is not supported")


class ChunkCodec:
    """Bytes of one chunk <-> its numpy array, following the node's codecs."""

    def __init__(self, codecs: list, dtype: np.dtype, encoding: str,
                 decode_element: Optional[Callable] = None, encode_element: Optional[Callable] = None):
        self.dtype = dtype
        self.encoding = encoding
        self.endian = ">" if any(c["name"] == "bytes" and c.get("configuration", {}).get("endian") == "big"
                                 for c in codecs) else "<"
        self.compressors = [_compressor(c) for c in codecs if c["name"] not in ("bytes", "vlen-utf8")]
        # elements of a fixed size (not vlen strings or JSON): a chunk's size is known, and
        # uncompressed, element i sits at bytes i*itemsize, so ranges can be read
        self.fixed_size = encoding not in ("vlen-utf8", "json")
        self.ranged = self.fixed_size and not self.compressors
        self.decode_element, self.encode_element = decode_element, encode_element

    def encode(self, array: np.ndarray):
        """The chunk's stored form (bytes-like)."""
        if self.encoding == "vlen-utf8":
            # VLenBytes writes the same layout as Zarr's vlen-utf8 codec, and
            # keeps the bytes of ASCII strings that are not UTF-8 exactly
            # (only those chunks are then unreadable as text elsewhere)
            flat = np.array([b"" if v is None else (v if isinstance(v, bytes) else v.encode("utf-8", "surrogateescape"))
                             for v in array.reshape(-1)], dtype=object)
            data = numcodecs.VLenBytes().encode(flat)
        elif self.encoding == "json":
            data = json.dumps(elements_to_json([self.encode_element(v) for v in array.reshape(-1)])).encode()
        else:
            stored = array.astype(array.dtype.newbyteorder(self.endian)) if array.dtype.byteorder not in "|=" and \
                array.dtype.fields is None and array.dtype.subdtype is None else array
            # bytes without a copy for a backend that writes them out; through
            # a uint8 view, since compounds with out-of-order fields have no
            # buffer form of their own
            data = memoryview(np.ascontiguousarray(stored).reshape(-1).view(np.uint8))
        for compressor in self.compressors:
            data = compressor.encode(data)
        return data

    def decode(self, data: bytes, shape: tuple, writable: bool = True) -> np.ndarray:
        """The chunk's array; with writable=False it may be a read-only view
        of ``data`` (no copy)."""
        for compressor in reversed(self.compressors):
            data = compressor.decode(data)
        count = int(np.prod(shape, dtype=np.int64))
        if self.encoding == "vlen-utf8":
            values = numcodecs.VLenBytes().decode(data)
            out = np.empty(count, dtype=self.dtype)
            for i, v in enumerate(values):
                out[i] = self.decode_element(v) if self.decode_element else v.decode("utf-8", "surrogateescape")
            return out.reshape(shape)
        if self.encoding == "json":
            out = np.empty(count, dtype=self.dtype)
            for i, raw in enumerate(elements_from_json(json.loads(bytes(data)))):
                out[i] = self.decode_element(raw)
            return out.reshape(shape + self.dtype.shape)
        array = np.frombuffer(data, dtype=self.dtype).reshape(shape + self.dtype.shape)
        return array.copy() if writable else array


def _length(positions) -> int:
    return positions.stop - positions.start if isinstance(positions, slice) else len(positions)


def _as_array(positions) -> np.ndarray:
    return np.arange(positions.start, positions.stop) if isinstance(positions, slice) else positions


def _contiguous(index):
    """A slice for consecutive indices, else the array."""
    if isinstance(index, slice):
        return index
    if len(index) and index[-1] - index[0] + 1 == len(index) and np.all(np.diff(index) == 1):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


class ChunkedArray:
    """A dataset's elements: ``shape`` split into ``chunks`` under ``prefix``."""

    def __init__(self, kv: KVStore, prefix: str, shape: tuple, chunks: tuple, dtype: np.dtype,
                 codec: ChunkCodec, fill: Callable[[], np.ndarray], executor: ThreadPoolExecutor,
                 key_encoding: Optional[dict] = None, on_missing: Optional[Callable[[], None]] = None):
        self.kv, self.prefix = kv, prefix
        encoding = key_encoding or DEFAULT_KEY_ENCODING
        self.v2_keys = encoding["name"] == "v2"
        self.separator = encoding.get("configuration", {}).get("separator", "." if self.v2_keys else "/")
        # called when a read finds chunks missing: raises if this layout is no longer the dataset's
        self.on_missing = on_missing
        self.shape, self.chunks, self.dtype = tuple(shape), tuple(chunks), dtype
        # numpy spreads an array type's dims into shapes: data arrives with the base type
        self.base = dtype.subdtype[0] if dtype.subdtype else dtype
        self.codec, self.fill, self.executor = codec, fill, executor
        # other processes may write this array at once: chunks updated in
        # part go through compare-and-swap (_update)
        self.shared = kv.supports_versions
        # a stored chunk's size, for backends that size read buffers (compressors add a header at worst)
        self.chunk_elements = math.prod(self.chunks)
        self.size_hint = self.chunk_elements * dtype.itemsize + 4096 \
            if codec.fixed_size else None
        # decoded chunks kept for reads (chunkcache.py); the owner sets it
        # while the file is open read-only
        self.cache: Optional[ChunkCache] = None

    # -- keys -----------------------------------------------------------------------
    def key(self, index: tuple) -> str:
        base = (self.prefix + "/") if self.prefix else ""
        if self.v2_keys:
            return base + (self.separator.join(str(i) for i in index) if index else "0")
        return base + "c" + "".join(f"{self.separator}{i}" for i in index)

    def keys_prefix(self) -> str:
        """What every chunk key of this layout starts with ("" for v2 keys:
        they share the node's prefix with its other keys)."""
        base = (self.prefix + "/") if self.prefix else ""
        return base if self.v2_keys else base + "c"

    def _missing(self, values: list) -> None:
        if self.on_missing is not None and any(v is None for v in values):
            self.on_missing()

    def _decode(self, data: Optional[bytes], writable: bool, index: tuple) -> np.ndarray:
        if data is None:
            return self.fill(self.chunks)
        try:
            return self.codec.decode(data, self.chunks, writable)
        except Exception as exc:  # whatever the codec says of bytes that are not its own
            raise OSError(errno.EIO, f"chunk {self.key(index)!r} cannot be decoded ({len(data)} bytes): "
                                     f"{type(exc).__name__}: {exc}") from exc

    def _load_many(self, indexes: list, writable: bool = True) -> dict:
        """The chunks at ``indexes`` (fill where missing), fetched concurrently."""
        values = self.kv.get_many([self.key(index) for index in indexes], self.executor, self.size_hint)
        self._missing(values)
        return dict(zip(indexes, self._each(lambda item: self._decode(item[1], writable, item[0]),
                                            list(zip(indexes, values)))))

    def _cached(self, indexes) -> dict:
        """The chunks at ``indexes`` the cache holds."""
        if self.cache is None:
            return {}
        found = {}
        for index in indexes:
            chunk = self.cache.get(self.key(index))
            if chunk is not None:
                found[index] = chunk
        return found

    def _load_for_reading(self, indexes: list, place: Optional[Callable] = None) -> dict:
        """``_load_many`` for a read: read-only chunks, kept in the cache.
        With ``place(index, chunk)`` each chunk is handed over on the thread
        that fetched it, as it arrives, and none is returned: a large read
        then copies while other chunks are still in flight, and never holds
        all of their bytes at once."""
        if not indexes:
            return {}
        if place is None:
            chunks = self._load_many(indexes, writable=False)
            if self.cache is not None:
                for index, chunk in chunks.items():
                    self.cache.put(self.key(index), chunk)
            return chunks
        missing = []

        def consume(i, data):
            if data is None:
                missing.append(i)
            chunk = self._decode(data, False, indexes[i])
            if self.cache is not None:
                self.cache.put(self.key(indexes[i]), chunk)
            place(indexes[i], chunk)
        self.kv.get_each([self.key(index) for index in indexes], self.executor, consume, self.size_hint)
        if missing:
            self._missing([None])  # raises if the layout changed: the read fails, whatever was placed
        return {}

    def _by_range(self, index: tuple, span) -> bool:
        """Read only ``span`` of this chunk?  Not when the cache has seen
        it read by range before: then it loads and keeps the whole chunk."""
        return span is not None and (self.cache is None or not self.cache.read_before(self.key(index)))

    def _store_many(self, items: dict) -> None:
        if self.cache is not None:  # only read-only files have one; a write must never leave it stale
            for index in items:
                self.cache.discard(self.key(index))
        encoded = self._each(self.codec.encode, list(items.values()))
        self.kv.put_many(list(zip(map(self.key, items), encoded)), self.executor)

    def _each(self, function, values: list) -> list:
        # codecs release the GIL: several chunks are (de)compressed on the workers
        return in_parallel(self.executor, function, values)

    # -- selections -------------------------------------------------------------------
    def _plan(self, axes):
        """For each touched chunk: (chunk index, positions in the dense data,
        positions in the chunk), per dim; positions are a slice where the
        axis is a contiguous run (``Selection.runs``), else an array."""
        return itertools.product(*[self._plan_run(axis, size) if isinstance(axis, slice) else
                                   self._plan_coords(axis, size) for axis, size in zip(axes, self.chunks)])

    @staticmethod
    def _plan_run(run: slice, size: int) -> list:
        dim = []
        for cid in range(run.start // size, (run.stop - 1) // size + 1):
            lo, hi = max(run.start, cid * size), min(run.stop, (cid + 1) * size)
            dim.append((cid, slice(lo - run.start, hi - run.start), slice(lo - cid * size, hi - cid * size)))
        return dim

    @staticmethod
    def _plan_coords(coords: np.ndarray, size: int) -> list:
        ids = coords // size
        # one pass over the coordinates, not one per chunk
        order = np.argsort(ids, kind="stable") if len(ids) > 1 and np.any(ids[1:] < ids[:-1]) else None
        positions = np.arange(len(ids)) if order is None else order
        ordered = ids if order is None else ids[order]
        cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        dim = []
        for where in np.split(positions, cuts):
            cid = int(ids[where[0]])
            dim.append((cid, where, coords[where] - cid * size))
        return dim

    def read(self, sel: Selection, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The selected elements (dense, ``sel.mshape``), into ``out`` if given."""
        if out is None:
            out = np.empty(sel.mshape + self.dtype.shape, dtype=self.base)
        if sel.kind == "none" or out.size == 0:
            return out
        if not self.shape:  # 0-d
            chunks = self._cached([()]) or self._load_for_reading([()])
            out[...] = chunks[()]
            return out
        axes = sel.runs()
        if axes is not None:
            dense = out.reshape(tuple(_length(a) for a in axes) + self.dtype.shape)
            plan = {tuple(p[0] for p in parts): parts for parts in self._plan(axes)}

            def place(index, chunk):
                parts = plan[index]
                dense[self._index([p[1] for p in parts])] = chunk[self._index([p[2] for p in parts])]
            cached = self._cached(plan)
            for index, chunk in cached.items():
                place(index, chunk)
            spans = {index: self._span([p[2] for p in parts]) for index, parts in plan.items()
                     if index not in cached}
            ranged = {index: span for index, span in spans.items() if self._by_range(index, span)}
            for index, values in self._load_ranges(ranged).items():
                dense[self._index([p[1] for p in plan[index]])] = self._in_span(values, [p[2] for p in plan[index]],
                                                                               ranged[index][0])
            fetch = [index for index in spans if index not in ranged]
            direct = {index: region for index in fetch
                      if (region := self._direct_region(plan[index], dense)) is not None}
            self._read_direct(direct)
            self._load_for_reading([index for index in fetch if index not in direct], place)
            return out
        coords = sel.coordinates()
        ids = coords // np.array(self.chunks)
        keys, inverse = np.unique(ids, axis=0, return_inverse=True)
        indexes = [tuple(int(v) for v in k) for k in keys]
        chunks = self._cached(indexes)
        chunks.update(self._load_for_reading([index for index in indexes if index not in chunks]))
        flat = out.reshape((-1,) + self.dtype.shape)
        for n, key in enumerate(keys):
            rows = np.nonzero(inverse.reshape(-1) == n)[0]
            local = coords[rows] - key * np.array(self.chunks)
            flat[rows] = chunks[tuple(int(v) for v in key)][tuple(local.T)]
        return out

    # -- direct reads: whole stored chunks read straight into the caller's buffer -------
    def _direct_region(self, parts, dense: np.ndarray) -> Optional[np.ndarray]:
        """The part of ``dense`` a whole chunk goes to, when the stored bytes
        are exactly its elements (uncompressed, same byte order) and that
        part is one contiguous block: then the chunk is read into it."""
        if not self.codec.ranged or self.codec.dtype != self.base or self.base.hasobject \
                or self.dtype.subdtype is not None:
            return None
        if tuple(_length(p[2]) for p in parts) != self.chunks:
            return None
        index = self._index([p[1] for p in parts])
        if not isinstance(index, tuple):
            return None
        region = dense[index]
        return region if region.flags.c_contiguous and region.flags.writeable else None

    def _read_direct(self, regions: dict) -> None:
        if not regions:
            return
        missing = []

        def read(item):
            index, region = item
            key = self.key(index)
            length = self.kv.get_into(key, memoryview(region.reshape(-1).view(np.uint8)))
            if length is None:
                missing.append(index)
                region[...] = self.fill(self.chunks)
            elif length != region.nbytes:
                raise OSError(f"chunk {key!r} holds {length} bytes, its array says {region.nbytes}")
        self._each(read, list(regions.items()))
        if missing:
            self._missing([None])

    # -- ranged reads: the bytes a small selection needs, not its whole chunk ----------
    RANGED_FRACTION = 4  # a range pays when it is at most a quarter of the chunk

    def _span(self, within: list) -> Optional[tuple]:
        """(first, count) of the chunk's elements, in C order, that enclose
        the selection ``within`` (per-dimension positions), when reading only
        those from uncompressed bytes costs a fraction of the chunk; else None."""
        if not self.codec.ranged or self.dtype.subdtype is not None:
            return None
        # C-order offsets in plain Python: numpy's calls cost more than the
        # whole read of one cached element
        first = last = 0
        for w, size in zip(within, self.chunks):
            lo, hi = (w.start, w.stop - 1) if isinstance(w, slice) else (int(w[0]), int(w[-1]))
            first, last = first * size + lo, last * size + hi
        count = last - first + 1
        return (first, count) if count * self.RANGED_FRACTION <= self.chunk_elements else None

    def _in_span(self, values: np.ndarray, within: list, first: int) -> np.ndarray:
        """The elements of ``within`` (per-dimension positions) out of the
        span ``values`` of a chunk that starts at element ``first``."""
        if all(isinstance(w, slice) for w in within):
            # a box: the span starts at its first corner, so the chunk's own
            # C-order strides find every element, no offsets computed
            strides, step = [], values.itemsize
            for size in reversed(self.chunks):
                strides.insert(0, step)
                step *= size
            return np.ndarray([_length(w) for w in within], values.dtype, values, 0, strides)
        return values[self._flat_offsets(within) - first].reshape([_length(w) for w in within])

    def _flat_offsets(self, within: list) -> np.ndarray:
        """C-order element offsets inside a chunk of the grid ``within`` spans."""
        return np.ravel_multi_index(np.ix_(*[_as_array(w) for w in within]), self.chunks).reshape(-1)

    def _load_ranges(self, spans: dict) -> dict:
        """Each chunk's span of elements as a 1-d array (fill where missing)."""
        size = self.codec.dtype.itemsize

        def load(item):
            index, (first, count) = item
            data = self.kv.get_range(self.key(index), first * size, count * size)
            if data is None:
                self._missing([None])
                return self.fill(self.chunks).reshape(-1)[first:first + count]
            if len(data) != count * size:
                raise OSError(f"chunk {self.key(index)!r} is shorter than its array says")
            return np.frombuffer(data, dtype=self.codec.dtype)
        items = list(spans.items())
        if self.kv.local:  # each is a fraction of a chunk: a thread hop costs more than the read
            return dict(zip(spans, map(load, items)))
        return dict(zip(spans, self._each(load, items)))

    @staticmethod
    def _index(parts):
        parts = [_contiguous(p) for p in parts]
        if all(isinstance(p, slice) for p in parts):
            return tuple(parts)
        return np.ix_(*[_as_array(p) for p in parts])

    def _in_bounds(self, index: tuple) -> tuple:
        """Elements of chunk ``index`` inside the array's extent, per dim."""
        return tuple(max(0, min(size, n - i * size)) for i, size, n in zip(index, self.chunks, self.shape))

    def write(self, sel: Selection, data: np.ndarray) -> None:
        if sel.kind == "none" or data.size == 0:
            return
        if not self.shape:
            self._store_many({(): np.asarray(data, dtype=self.base).reshape(self.dtype.shape)})
            return
        axes = sel.runs()
        if axes is not None:
            dense = np.asarray(data, dtype=self.base).reshape(tuple(_length(a) for a in axes) + self.dtype.shape)
            whole, partial = {}, {}
            for parts in self._plan(axes):
                index = tuple(p[0] for p in parts)
                source = dense[self._index([p[1] for p in parts])]
                within = self._index([p[2] for p in parts])
                covered = tuple(_length(p[2]) for p in parts)
                if covered == self.chunks:
                    whole[index] = source  # covers the whole chunk: store it as it is
                elif covered == self._in_bounds(index) and not self.shared:
                    # all of it that lies in the extent (another writer may
                    # have grown a shared one: then it is a partial update)
                    whole[index] = self.fill(self.chunks)
                    whole[index][within] = source
                else:
                    partial[index] = [(within, source)]
            self._store_many(whole)
            self._update(partial)
            return
        coords = sel.coordinates()
        flat = np.asarray(data, dtype=self.base).reshape((-1,) + self.dtype.shape)
        ids = coords // np.array(self.chunks)
        keys, inverse = np.unique(ids, axis=0, return_inverse=True)
        partial = {}
        for n, key in enumerate(keys):
            rows = np.nonzero(inverse.reshape(-1) == n)[0]
            local = coords[rows] - key * np.array(self.chunks)
            partial[tuple(int(v) for v in key)] = [(tuple(local.T), flat[rows])]
        self._update(partial)

    def _update(self, changes: dict) -> None:
        """Read-modify-write of chunks a write covers in part: ``changes``
        maps a chunk index to (positions, values) assignments.  In a shared
        store each chunk is written only over the version it was read at; a
        chunk another writer replaced meanwhile is read again and the
        assignments re-applied, so disjoint elements of one chunk written by
        two processes at once are both kept."""
        if not changes:
            return
        if not self.shared:
            chunks = self._load_many(list(changes))
            for index, assignments in changes.items():
                for where, values in assignments:
                    chunks[index][where] = values
            self._store_many(chunks)
            return
        pending = dict(changes)
        for _ in range(RETRIES):
            keys = [self.key(index) for index in pending]
            loaded = self._each(self.kv.get_versioned, keys)
            chunks = self._each(lambda item: self._decode(item[1][0], True, item[0]), list(zip(pending, loaded)))
            for assignments, chunk in zip(pending.values(), chunks):
                for where, values in assignments:
                    chunk[where] = values
            encoded = self._each(self.codec.encode, chunks)

            def put(item):
                key, value, (data, version) = item
                return self.kv.put_if_version(key, value, self.kv.ABSENT if data is None else version)
            written = self._each(put, list(zip(keys, encoded, loaded)))
            pending = {index: pending[index] for index, version in zip(list(pending), written) if version is None}
            if not pending:
                return
            backoff()
        raise FileChangedError(f"chunks {sorted(pending)[:4]} of {self.prefix!r} kept changing under other "
                               f"writers; gave up after {RETRIES} attempts")

    def fill_missing(self, batch: int = 64) -> None:
        """Stores the fill chunk wherever the extent has no chunk yet
        (H5D_ALLOC_TIME_EARLY), ``batch`` chunks at a time."""
        stored = set(self.kv.list(self.keys_prefix()))
        grid = [range((n + c - 1) // c) for n, c in zip(self.shape, self.chunks)]
        encoded = self.codec.encode(self.fill(self.chunks))
        missing = (self.key(i) for i in itertools.product(*grid) if self.key(i) not in stored)
        while True:
            keys = list(itertools.islice(missing, batch))
            if not keys:
                return
            self.kv.put_many([(k, encoded) for k in keys], self.executor)

    def resize(self, shape: tuple) -> None:
        """New extent; what falls outside it is gone (it reads as fill if the
        extent grows back), as in HDF5."""
        old, self.shape = self.shape, tuple(shape)
        if not old:
            return
        ranges = [range((o + c - 1) // c) for o, c in zip(old, self.chunks)]
        trimmed = {}
        for index in itertools.product(*ranges):
            inside = self._in_bounds(index)
            if any(n == 0 for n in inside):
                self.kv.delete(self.key(index))
            elif any(n < min(c, o - i * c) for n, i, c, o in zip(inside, index, self.chunks, old)):
                # shrinking: what is cut reads as fill if the extent grows back (growing
                # rewrites nothing, so it never races a writer updating that chunk)
                data = self.kv.get(self.key(index))
                if data is None:
                    continue
                chunk = self._decode(data, True, index)
                keep = self.fill(self.chunks)
                region = tuple(slice(0, n) for n in inside)
                keep[region] = chunk[region]
                trimmed[index] = keep
        self._store_many(trimmed)

    def delete(self) -> None:
        if self.v2_keys:
            for key in list(self.kv.list(self.keys_prefix())):
                if is_v2_chunk_key(key[len(self.keys_prefix()):], self.separator):
                    self.kv.delete(key)
            return
        base = (self.prefix + "/" if self.prefix else "") + "c"
        self.kv.delete(base)
        self.kv.delete_prefix(base + "/")


DEFAULT_KEY_ENCODING = {"name": "default", "configuration": {"separator": "/"}}


def is_v2_chunk_key(rest: str, separator: str = ".") -> bool:
    """Whether a key's last part (below its node) is a v2 chunk key."""
    parts = rest.split(separator)
    return "/" not in rest.replace(separator, "") and all(p.isdigit() for p in parts)
