"""Streamer: a dataset read start to end in blocks by worker processes,
handed out through a queue of guards (multitables' Streamer).

A request thread walks the dataset in blocks of ``block_size`` rows, each
into a free stage of a pool of ``read_ahead`` stages; a stage comes back
to the pool when the consumer's guard closes, so the workers read at most
``read_ahead`` blocks ahead of the consumer."""
from __future__ import annotations

import os
import queue
import threading
from typing import Optional

import numpy as np

from .. import files
from .ops import JoinedSlicesOp
from .reader import Reader, refuse_unshareable
from .request import FailedRequest, RequestPool
from .signals import QueueClosed
from .stage import StagePool

DEFAULT_BLOCK_BYTES = 128 << 10  # unchunked datasets: blocks of about this size
DEFAULT_PROCS = 4


def default_block_size(node, field: Optional[str] = None) -> int:
    """The chunk's rows for a chunked dataset (reads stay within whole
    chunks), else about DEFAULT_BLOCK_BYTES worth of rows."""
    if node.chunks is not None and node.chunks[0] > 0:
        return node.chunks[0]
    itemsize = (node.dtype if field is None else node.dtype[field]).itemsize
    row = itemsize * int(np.prod(node.shape[1:], dtype=np.int64))
    return max(1, min(node.shape[0], DEFAULT_BLOCK_BYTES // max(row, 1)))


class Streamer:
    """Streams datasets of ``filename`` (any H5PyVOL file or a native .h5 file).

    Keyword arguments go to ``files.open_file`` (``format=``)."""

    def __init__(self, filename, **open_kwargs):
        self._filename = os.fspath(filename)
        refuse_unshareable(self._filename)
        self._open_kwargs = open_kwargs

    def _batch(self, path: str, length: Optional[int], field: Optional[str] = None, last: bool = False):
        with files.open_file(self._filename, "r", **self._open_kwargs) as h5file:
            node = h5file[path]
            if not node.shape or node.shape[0] == 0:
                raise RuntimeError(f"{path}: cannot stream an empty or scalar dataset (shape {node.shape})")
            if length is None:
                length = default_block_size(node, field)
            if length < 1:
                raise ValueError(f"block_size must be at least 1, not {length}")
            rows = slice(length * (node.shape[0] // length), None) if last else slice(0, length)
            return (node[rows] if field is None else node[rows, field]), node.shape[0]

    def get_remainder(self, path: str, block_size: Optional[int]) -> np.ndarray:
        """The rows after the last whole block of ``block_size``: those a
        queue with ``cyclic=False, remainder=False`` does not return."""
        return self._batch(path, block_size, last=True)[0]

    class Queue:
        """Blocks as they are read; ``get()`` returns a guard, ``with guard as block``."""

        def __init__(self, pool: RequestPool, stop: threading.Event, block_size: int):
            self._pool, self.stop, self.block_size = pool, stop, block_size

        def get(self):
            """The next block's guard, or QueueClosed once there are no more; waits."""
            req = self._pool.next()
            if req is QueueClosed:
                self._pool.add(QueueClosed)  # every later get() sees the end too
                return QueueClosed
            return req.get_proxy()

        def iter(self):
            """The guards until the queue ends."""
            while True:
                guard = self.get()
                if guard is QueueClosed:
                    return
                yield guard

        __iter__ = iter

        def close(self) -> None:
            """Stops reading; the workers end once their current blocks are done."""
            self.stop.set()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

        def __del__(self):
            self.close()

    def get_queue(self, path: str, n_procs: Optional[int] = None, read_ahead: Optional[int] = None,
                  cyclic: bool = False, block_size: Optional[int] = None, ordered: bool = False,
                  field: Optional[str] = None, remainder: bool = False) -> "Streamer.Queue":
        """A queue of blocks of ``block_size`` rows of the dataset at ``path``.

        n_procs: worker processes (4).  read_ahead: blocks in flight or
        waiting (2 * n_procs + 1).  cyclic: wrap around forever, a block
        spanning the end continuing at the start.  ordered: blocks in file
        order (else as they are read).  field: one field of a compound type.
        remainder: also the last, shorter block (when not cyclic)."""
        n_procs = DEFAULT_PROCS if n_procs is None else n_procs
        read_ahead = 2 * n_procs + 1 if read_ahead is None else read_ahead
        if read_ahead < 1:
            raise RuntimeError("The read_ahead parameter should be a strictly positive number or None.")

        pool = RequestPool()
        # the workers start first: their imports overlap this process's opening of the file
        reader = Reader(self._filename, n_procs, notify=None if ordered else pool.add, **self._open_kwargs)
        stop = threading.Event()
        try:
            example, rows = self._batch(path, block_size, field)
            block_size = example.shape[0]
            if cyclic and block_size > rows:
                raise ValueError(f"{path}: a cyclic block_size ({block_size}) cannot exceed the dataset's {rows} rows")
            dataset = reader.get_dataset(path)
            stages = StagePool(dataset, block_size, read_ahead, timeout=0.1)
        except BaseException:
            reader.stop()
            raise

        def blocks():
            rows, start = dataset.shape[0], 0
            while True:
                stop_at = start + block_size
                if stop_at <= rows:
                    yield dataset.read(start, stop_at, field=field)
                    start = stop_at % rows if cyclic else stop_at
                elif cyclic:
                    wrapped = stop_at - rows
                    yield JoinedSlicesOp(path, field, (start, rows), (0, wrapped))
                    start = wrapped
                else:
                    if remainder and start < rows:
                        yield dataset.read(start, rows, field=field)
                    return

        def spool():
            try:
                for op in blocks():
                    while True:
                        if stop.is_set():
                            return
                        try:
                            req = reader.request(op, stages)
                            break
                        except queue.Empty:  # no free stage within the pool's timeout
                            continue
                    if ordered:
                        pool.add(req)
            except BaseException as error:  # the consumer gets it from the queue
                pool.add(FailedRequest(error))  # unordered: QueueClosed follows when the workers end
            finally:
                if ordered:
                    pool.add(QueueClosed)
                reader.close()

        threading.Thread(target=spool, daemon=True, name=f"h5pyvol-stream-spool {path}").start()
        return Streamer.Queue(pool, stop, block_size)

    def get_generator(self, path: str, n_procs: Optional[int] = None, read_ahead: Optional[int] = None,
                      cyclic: bool = False, block_size: Optional[int] = None, ordered: bool = False,
                      field: Optional[str] = None, remainder: bool = True):
        """The dataset's rows one at a time (remainder included by default);
        options as get_queue's."""
        q = self.get_queue(path=path, n_procs=n_procs, read_ahead=read_ahead, cyclic=cyclic,
                           block_size=block_size, ordered=ordered, field=field, remainder=remainder)
        try:
            for guard in q.iter():
                with guard as block:
                    rows = np.array(block)
                yield from rows
        finally:
            q.close()
