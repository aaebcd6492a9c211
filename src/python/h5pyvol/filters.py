"""The one HDF5 filter whose effect shows in the values: scale-offset.

Connectors store values, not HDF5's filtered chunks, so compression filters
(deflate, shuffle, ...) change nothing a reader sees.  Scale-offset
(H5Pset_scaleoffset) is lossy, and natively per chunk: each chunk is scaled
from its own minimum, with the dataset's fill value excluded, when it
leaves HDF5's chunk cache (evicted, or the dataset flushed or closed);
until then readers of the open dataset get the values as written.

``LossyChunks`` does the same: a write stores its chunks' values as
written and remembers them, up to the chunk cache's size (least recently
used first out); a chunk that leaves passes through HDF5's own filter (the
bridge's ``native_filter_round_trip``: a scratch native dataset in memory
with the dataset's creation list) and is stored as a native reader would
get it back.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Callable

import numpy as np

from .selection import Selection

H5Z_FILTER_SCALEOFFSET = 6
CHUNK_CACHE_BYTES = 1 << 20  # HDF5's default H5Pset_chunk_cache size


def is_lossy(creation) -> bool:
    """Does the creation list apply a filter that changes values?"""
    return any(f[0] == H5Z_FILTER_SCALEOFFSET for f in getattr(creation, "filters", None) or ())


class LossyChunks:
    """The chunks of one dataset written since they were last filtered."""

    def __init__(self, ds, round_trip: Callable, capacity: int = CHUNK_CACHE_BYTES):
        self.ds, self.round_trip, self.capacity = ds, round_trip, capacity
        self.pending: OrderedDict = OrderedDict()  # chunk index -> bytes, least recently written first
        self.base = ds.dtype.subdtype[0] if ds.dtype.subdtype else ds.dtype

    def _box(self, index: tuple) -> Selection:
        """Chunk ``index`` inside the extent, as a selection."""
        shape, chunks = tuple(self.ds.shape), tuple(self.ds.creation.chunks)
        start = tuple(i * c for i, c in zip(index, chunks))
        size = tuple(min(c, n - s) for s, c, n in zip(start, chunks, shape))
        rank = len(shape)
        return Selection("hyperslab", shape, start=start, stride=(1,) * rank, count=(1,) * rank, block=size)

    def write(self, sel: Selection, data: np.ndarray) -> None:
        """Stores ``data`` at ``sel`` chunk by chunk, values as written."""
        chunks = tuple(self.ds.creation.chunks)
        axes = sel.axes()
        if axes is not None:
            dense = np.asarray(data, dtype=self.base).reshape(tuple(len(a) for a in axes))
            touched = itertools.product(*[np.unique(a // c).tolist() for a, c in zip(axes, chunks)])
        else:
            coords = sel.coordinates()
            flat = np.asarray(data, dtype=self.base).reshape(-1)
            ids = coords // np.array(chunks)
            touched = sorted({tuple(int(v) for v in row) for row in ids})
        for index in touched:
            box = self._box(index)
            start, size = box.start, box.block
            chunk = np.array(self.ds.read(box), dtype=self.base).reshape(size)
            if axes is not None:
                inside = [np.nonzero((a >= s) & (a < s + n))[0] for a, s, n in zip(axes, start, size)]
                local = [a[i] - s for a, i, s in zip(axes, inside, start)]
                chunk[np.ix_(*local)] = dense[np.ix_(*inside)]
            else:
                rows = np.nonzero((ids == np.array(index)).all(axis=1))[0]
                chunk[tuple((coords[rows] - np.array(start)).T)] = flat[rows]
            self.ds.write(box, chunk)
            self._remember(index, int(np.prod(chunks, dtype=np.int64)) * self.ds.dtype.itemsize)

    def _remember(self, index: tuple, nbytes: int) -> None:
        self.pending.pop(index, None)
        self.pending[index] = nbytes
        # natively a chunk larger than the cache never stays in it
        while self.pending and (sum(self.pending.values()) > self.capacity):
            self._filter(next(iter(self.pending)))

    def _filter(self, index: tuple) -> None:
        self.pending.pop(index, None)
        box = self._box(index)
        if any(n <= 0 for n in box.block):  # the extent shrank past it
            return
        chunk = np.ascontiguousarray(np.asarray(self.ds.read(box), dtype=self.base).reshape(box.block))
        filtered = self.round_trip(self.ds.creation.dcpl, self.ds.type_spec, box.block, chunk.tobytes())
        self.ds.write(box, np.frombuffer(filtered, dtype=self.base).reshape(box.block))

    def flush(self) -> None:
        """The dataset is flushed or closed: every pending chunk is filtered."""
        while self.pending:
            self._filter(next(iter(self.pending)))
