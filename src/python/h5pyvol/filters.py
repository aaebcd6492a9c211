"""The one HDF5 filter whose effect shows in the values: scale-offset.

Connectors store values, not HDF5's filtered chunks, so compression filters
(deflate, shuffle, ...) change nothing a reader sees.  Scale-offset
(H5Pset_scaleoffset) is lossy, and natively per chunk: each chunk is scaled
from its own minimum, with the dataset's fill value excluded.  To give
readers exactly the values a native reader would get, every chunk a write
touches is completed with what the dataset holds, passed through HDF5's own
filter (the bridge's ``native_filter_round_trip``: a scratch native dataset
in memory with the dataset's creation list) and written back whole.
"""
from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from .selection import Selection

H5Z_FILTER_SCALEOFFSET = 6


def is_lossy(creation) -> bool:
    """Does the creation list apply a filter that changes values?"""
    return any(f[0] == H5Z_FILTER_SCALEOFFSET for f in getattr(creation, "filters", None) or ())


def _orthogonal_axes(sel: Selection):
    """Per dimension the selected coordinates (data is their product in
    row-major order), or None for point and block selections."""
    if sel.kind == "all":
        return [np.arange(n) for n in sel.shape]
    if sel.kind == "hyperslab":
        axes = []
        for d in range(len(sel.shape)):
            axis = sel._axis(d)
            axes.append(np.arange(axis.start, axis.stop, axis.step or 1) if isinstance(axis, slice) else axis)
        return axes
    return None


def _box(index: tuple, chunks: tuple, shape: tuple) -> tuple:
    """Start and size of chunk ``index`` inside the extent."""
    start = tuple(i * c for i, c in zip(index, chunks))
    return start, tuple(min(c, n - s) for s, c, n in zip(start, chunks, shape))


def _box_selection(shape, start, size) -> Selection:
    rank = len(shape)
    return Selection("hyperslab", shape, start=start, stride=(1,) * rank, count=(1,) * rank, block=size)


def write_through_filters(ds, sel: Selection, data: np.ndarray, write: Callable,
                          round_trip: Callable) -> None:
    """Writes ``data`` at ``sel`` of dataset ``ds`` as whole chunks, each as
    HDF5's filters return it.  ``write(selection, data)`` stores, and
    ``round_trip(dcpl, type_spec, box_shape, bytes)`` filters one chunk."""
    shape, chunks = tuple(ds.shape), tuple(ds.creation.chunks)
    base = ds.dtype.subdtype[0] if ds.dtype.subdtype else ds.dtype
    axes = _orthogonal_axes(sel)
    if axes is not None:
        dense = np.asarray(data, dtype=base).reshape(tuple(len(a) for a in axes))
        touched = itertools.product(*[np.unique(a // c).tolist() for a, c in zip(axes, chunks)])
    else:
        coords = sel.points if sel.kind == "points" else np.argwhere(sel._mask())
        flat = np.asarray(data, dtype=base).reshape(-1)
        ids = coords // np.array(chunks)
        touched = sorted({tuple(int(v) for v in row) for row in ids})
    for index in touched:
        start, size = _box(index, chunks, shape)
        box_sel = _box_selection(shape, start, size)
        chunk = np.array(ds.read(box_sel), dtype=base).reshape(size)
        if axes is not None:
            inside = [np.nonzero((a >= s) & (a < s + n))[0] for a, s, n in zip(axes, start, size)]
            local = [a[i] - s for a, i, s in zip(axes, inside, start)]
            chunk[np.ix_(*local)] = dense[np.ix_(*inside)]
        else:
            rows = np.nonzero((ids == np.array(index)).all(axis=1))[0]
            chunk[tuple((coords[rows] - np.array(start)).T)] = flat[rows]
        filtered = round_trip(ds.creation.dcpl, ds.type_spec, size, np.ascontiguousarray(chunk).tobytes())
        write(box_sel, np.frombuffer(filtered, dtype=base).reshape(size))
