"""Read requests: what indexing a dataset proxy builds, and how a worker
process carries it out on an h5py dataset.

An operation is picklable; the worker applies it and writes the result
into a stage.  A plain slice of rows (optionally of one field) is read by
HDF5 straight into the stage; anything indexed further is read, indexed
with numpy and copied in.  Indexing an operation again (``op[1:3]``,
``op['x']``) returns a new operation: a proxy can be indexed many times."""
from __future__ import annotations

import copy
from typing import Optional

import numpy as np

from .stage import array_in


def is_simple_slice(key) -> bool:
    """``(slice, :, ..., ...)``: rows only."""
    return (isinstance(key, tuple) and len(key) > 0 and isinstance(key[0], slice)
            and all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in key[1:]))


def is_coords(key) -> bool:
    return isinstance(key, list) or (isinstance(key, np.ndarray) and np.issubdtype(key.dtype, np.integer))


def field_type(dtype: np.dtype, field: Optional[str], path: str):
    """(dtype, extra dims) of ``field`` in ``dtype``; KeyError naming the fields there are."""
    if field is None:
        return dtype, ()
    if dtype.names is None or field not in dtype.names:
        have = ", ".join(dtype.names) if dtype.names else "none: not a compound type"
        raise KeyError(f"{path}: no field {field!r} (fields: {have})")
    sub = dtype[field]
    return (sub.subdtype if sub.subdtype is not None else (sub, ()))


class Op:
    def __init__(self, path: str):
        self._path = path
        self._index: list = []

    @property
    def path(self) -> str:
        return self._path

    def __getitem__(self, key) -> "Op":
        op = copy.copy(self)
        op._index = self._index + [key]
        return op

    def _apply_index(self, array: np.ndarray) -> np.ndarray:
        for key in self._index:
            array = array[key]
        return np.asarray(array)

    def _read(self, node) -> np.ndarray:
        raise NotImplementedError

    def apply(self, node, buffer) -> tuple:
        """Writes the result into ``buffer``; returns its (dtype, shape)."""
        result = self._apply_index(self._read(node))
        array_in(buffer, result.dtype, result.shape)[...] = result
        return result.dtype, result.shape


class IndexOp(Op):
    """Any h5py index: ``dataset[2:5, ::2]``, ``dataset[..., 0]``."""

    def __init__(self, path: str, key):
        super().__init__(path)
        self._key = key

    def _read(self, node):
        return node[self._key]


class RowsOp(Op):
    """Rows ``start:stop:step`` (one row when ``scalar``), of one field or all."""

    def __init__(self, path: str, field: Optional[str], start=None, stop=None, step=None, scalar: bool = False):
        super().__init__(path)
        self._field, self._start, self._stop, self._step, self._scalar = field, start, stop, step, scalar

    def __getitem__(self, key):
        if isinstance(key, str) and self._field is None and not self._index:
            return RowsOp(self._path, key, self._start, self._stop, self._step, self._scalar)
        return super().__getitem__(key)

    def _rows(self, node) -> slice:
        n = node.shape[0]
        if self._scalar:
            i = self._start + n if self._start < 0 else self._start
            if not 0 <= i < n:
                raise IndexError(f"{self._path}: row {self._start} out of range for {n} rows")
            return slice(i, i + 1, 1)
        start, stop, step = slice(self._start, self._stop, self._step).indices(n)
        if step < 1:
            raise ValueError(f"{self._path}: steps must be positive, not {step} (HDF5 selects forward only)")
        return slice(start, max(start, stop), step)

    def _read(self, node):
        rows = self._rows(node)
        out = node[rows] if self._field is None else node[rows, self._field]
        return out[0] if self._scalar else out

    def apply(self, node, buffer):
        if self._index:
            return super().apply(node, buffer)
        rows = self._rows(node)
        dtype, extra = field_type(node.dtype, self._field, self._path)
        count = len(range(rows.start, rows.stop, rows.step))
        shape = (count,) + tuple(node.shape[1:]) + tuple(extra)
        out = array_in(buffer, dtype, shape)
        if count:
            if self._field is None:
                node.read_direct(out, rows)  # HDF5 writes into the stage itself
            else:
                out[...] = node[rows, self._field]
        return dtype, (shape[1:] if self._scalar else shape)


class FieldOp(Op):
    """One field (PyTables' column) of every row; index it for fewer rows."""

    def __init__(self, path: str, field: str):
        super().__init__(path)
        self._field = field

    def __getitem__(self, key):
        if self._index:
            return super().__getitem__(key)
        if isinstance(key, (int, np.integer)):
            return RowsOp(self._path, self._field, int(key), scalar=True)
        if isinstance(key, slice):
            return RowsOp(self._path, self._field, key.start, key.stop, key.step)
        if is_simple_slice(key):
            return RowsOp(self._path, self._field, key[0].start, key[0].stop, key[0].step)
        if is_coords(key):
            return CoordsOp(self._path, self._field, key)
        return super().__getitem__(key)

    def _read(self, node):
        return node.fields(self._field)[()]

    def apply(self, node, buffer):
        if self._index:
            return super().apply(node, buffer)
        return RowsOp(self._path, self._field).apply(node, buffer)


class CoordsOp(Op):
    """Rows at arbitrary positions, in the order asked, repeats allowed
    (HDF5 selects rows in increasing order: read sorted, then reorder)."""

    def __init__(self, path: str, field: Optional[str], coords):
        super().__init__(path)
        self._field = field
        self._coords = np.asarray(coords, dtype=np.int64)

    def _read(self, node):
        n = node.shape[0]
        coords = np.where(self._coords < 0, self._coords + n, self._coords)
        if coords.size and (coords.min() < 0 or coords.max() >= n):
            raise IndexError(f"{self._path}: coordinates out of range for {n} rows")
        unique, order = np.unique(coords, return_inverse=True)
        if not unique.size:
            dtype, extra = field_type(node.dtype, self._field, self._path)
            return np.empty((0,) + tuple(node.shape[1:]) + tuple(extra), dtype=dtype)
        rows = node[unique] if self._field is None else node[unique, self._field]
        return rows[order.reshape(-1)]


class JoinedSlicesOp(Op):
    """Rows ``start1:stop1`` then ``start2:stop2``: a cyclic block that wraps."""

    def __init__(self, path: str, field: Optional[str], first: tuple, second: tuple):
        super().__init__(path)
        self._parts = [RowsOp(path, field, *first), RowsOp(path, field, *second)]

    def _read(self, node):
        return np.concatenate([part._read(node) for part in self._parts], axis=0)

    def apply(self, node, buffer):
        if self._index:
            return super().apply(node, buffer)
        dtype, first = self._parts[0].apply(node, buffer)
        offset = dtype.itemsize * int(np.prod(first, dtype=np.int64))
        _, second = self._parts[1].apply(node, memoryview(buffer)[offset:])
        return dtype, (first[0] + second[0],) + tuple(first[1:])
