"""File-side selections as numpy indexing.

A connector receives a :class:`Selection` with every read and write.  The
data that goes with it is dense: ``selection.mshape`` elements of the
dataset's dtype, in HDF5's order (row-major over the selected coordinates for
hyperslabs, the given order for point selections).
"""
from __future__ import annotations

import operator

import numpy as np


class Selection:
    """Which elements of a dataset of extent ``shape`` a read or write touches.

    ``kind`` is one of ``"all"``, ``"none"``, ``"hyperslab"`` (regular:
    ``start``, ``stride``, ``count``, ``block``), ``"blocks"`` (a union of
    blocks, ``blocks`` an array of shape (n, 2, rank) of inclusive start/end
    corners) or ``"points"`` (``points`` an array of shape (n, rank)).
    """

    def __init__(self, kind, shape, start=None, stride=None, count=None, block=None,
                 blocks=None, points=None):
        self.kind = kind
        self.shape = tuple(shape)
        self.start, self.stride, self.count, self.block = start, stride, count, block
        self.blocks = blocks
        self.points = points
        # A selection is a value: what is derived from it is kept, because a
        # one-element read asks for its shape and index several times.
        self._mshape = None
        self._index = None

    @classmethod
    def from_c(cls, desc) -> "Selection":
        """Builds a selection from the tuple ``pv_selection_to_py`` makes."""
        kind, shape = desc[0], desc[1]
        if kind == "hyperslab":  # first: every h5py slice and one-element call is one
            return cls(kind, shape, *desc[2:6])
        if kind in ("all", "none"):
            return cls(kind, shape)
        rank = len(shape)
        coords = np.frombuffer(desc[3], dtype=np.uint64).astype(np.intp)
        if kind == "blocks":
            return cls(kind, shape, blocks=coords.reshape(desc[2], 2, rank))
        if kind == "points":
            return cls(kind, shape, points=coords.reshape(desc[2], rank))
        raise ValueError(f"unknown selection kind {kind!r}")

    @classmethod
    def all(cls, shape) -> "Selection":
        return cls("all", shape)

    @property
    def mshape(self) -> tuple:
        """Shape of the dense data that goes with this selection."""
        if self._mshape is None:
            self._mshape = self._dense_shape()
        return self._mshape

    def _dense_shape(self) -> tuple:
        if self.kind == "all":
            return self.shape
        if self.kind == "none":
            return (0,)
        if self.kind == "hyperslab":
            return tuple(map(operator.mul, self.count, self.block))
        if self.kind == "points":
            return (len(self.points),)
        return (int(self._mask().sum()),)

    @property
    def size(self) -> int:
        return int(np.prod(self.mshape, dtype=np.int64))

    def _axis(self, dim):
        start, stride, count, block = (self.start[dim], self.stride[dim],
                                       self.count[dim], self.block[dim])
        if count == 1:
            return slice(start, start + block)
        if block == 1:
            return slice(start, start + stride * (count - 1) + 1, stride)
        return (start + stride * np.arange(count)[:, None] + np.arange(block)).ravel()

    def axes(self):
        """Per dimension the selected coordinates, sorted (the dense data is
        their product in row-major order); None for points and unions of
        blocks, which are no product."""
        runs = self.runs()
        return None if runs is None else [np.arange(r.start, r.stop) if isinstance(r, slice) else r for r in runs]

    def runs(self):
        """Like ``axes``, but a dimension selected as one contiguous run is a
        ``slice(start, stop)``: a bulk transfer then never builds a
        coordinate array as large as the data."""
        if self.kind == "all":
            return [slice(0, n) for n in self.shape]
        if self.kind == "hyperslab":
            runs = []
            for d in range(len(self.shape)):
                axis = self._axis(d)
                if isinstance(axis, slice) and (axis.step or 1) != 1:
                    axis = np.arange(axis.start, axis.stop, axis.step)
                runs.append(axis)
            return runs
        return None

    def coordinates(self) -> np.ndarray:
        """The selected coordinates, (n, rank), in the dense data's order."""
        if self.kind == "points":
            return self.points
        return np.argwhere(self._mask())  # a union of blocks, in row-major order

    def _mask(self):
        mask = np.zeros(self.shape, dtype=bool)
        for lo, hi in self.blocks:
            mask[tuple(slice(a, b + 1) for a, b in zip(lo, hi))] = True
        return mask

    def index(self):
        """A numpy index: ``array[sel.index()]`` yields the selected elements
        (reshape to ``mshape`` for hyperslabs made of index arrays)."""
        if self._index is None:
            self._index = self._numpy_index()
        return self._index

    def _numpy_index(self):
        if self.kind == "all":
            return ...
        if self.kind == "none":
            return tuple(slice(0, 0) for _ in self.shape) if self.shape else ...
        if self.kind == "hyperslab":
            slices = []
            for start, stride, count, block in zip(self.start, self.stride, self.count, self.block):
                if count == 1:
                    slices.append(slice(start, start + block))
                elif block == 1:
                    slices.append(slice(start, start + stride * (count - 1) + 1, stride))
                else:  # repeated blocks are no slice: index arrays in every dimension
                    axes = [self._axis(d) for d in range(len(self.shape))]
                    return np.ix_(*[a if isinstance(a, np.ndarray) else np.arange(a.start, a.stop, a.step or 1)
                                    for a in axes])
            return tuple(slices)
        if self.kind == "points":
            return tuple(self.points.T)
        return self._mask()

    def read_from(self, array: np.ndarray) -> np.ndarray:
        """The selected elements of ``array`` as dense data of shape ``mshape``
        (followed by the element's own dims when the dtype is an array type,
        which numpy spreads into the array's shape)."""
        element_dims = array.shape[len(self.shape):]
        if self.kind == "none":
            return np.empty((0,) + element_dims, dtype=array.dtype)
        selected = array[self.index()]
        shape = self.mshape + element_dims
        return selected if selected.shape == shape else selected.reshape(shape)

    def write_into(self, array: np.ndarray, data: np.ndarray) -> None:
        """Stores dense ``data`` into the selected elements of ``array``."""
        if self.kind == "none":
            return
        index = self.index()
        target_shape = array[index].shape
        array[index] = data.reshape(target_shape)

    def __repr__(self):
        if self.kind == "hyperslab":
            return (f"Selection(hyperslab, shape={self.shape}, start={self.start}, "
                    f"stride={self.stride}, count={self.count}, block={self.block})")
        return f"Selection({self.kind}, shape={self.shape}, mshape={self.mshape})"
