"""Stages: shared memory a worker process writes a result into.

A stage hosts one request at a time; a StagePool hands out free stages
and takes them back when the reader of a result releases it.  Workers
attach to a stage by its name (POSIX shared memory under /dev/shm)."""
from __future__ import annotations

import collections
import queue
import threading
import time
import weakref
from contextlib import contextmanager
from multiprocessing import shared_memory
from typing import Optional

import numpy as np


class StageTooSmall(ValueError):
    """A result larger than the stage it was requested into."""


def array_in(buffer, dtype: np.dtype, shape: tuple) -> np.ndarray:
    """An ndarray over the start of ``buffer``; StageTooSmall when it does not fit."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if nbytes > len(buffer):
        raise StageTooSmall(f"a result of shape {tuple(shape)} and type {dtype} needs {nbytes} bytes; "
                            f"the stage holds {len(buffer)} (create a larger stage)")
    return np.ndarray(shape, dtype=dtype, buffer=buffer)


class Stage:
    """Shared memory for results of at most ``size_nbytes`` bytes."""

    def __init__(self, size_nbytes: int):
        self.size_nbytes = int(size_nbytes)
        # a size of 0 is not a valid shared memory segment; 1 byte hosts empty results
        self._shm = shared_memory.SharedMemory(create=True, size=max(self.size_nbytes, 1))
        self._busy = threading.Lock()
        self._closed = False
        # unlinked when collected, or at exit if a stream thread still holds it
        self._finalizer = weakref.finalize(self, _unlink, self._shm)

    @property
    def name(self) -> str:
        return self._shm.name

    def _acquire(self):
        if self._closed:
            raise RuntimeError("Stage has already been closed.")
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("Stage already fielding another request.")
        return self, self

    @contextmanager
    def _release(self):
        """Yields a function (dtype, shape) -> ndarray over the stage; frees the
        stage for the next request when the block ends."""
        try:
            yield lambda dtype, shape: array_in(self._shm.buf, dtype, shape)
        finally:
            self._busy.release()

    def close(self) -> None:
        self._closed = True
        self._finalizer()


def _unlink(shm: shared_memory.SharedMemory) -> None:
    try:
        shm.unlink()
    except FileNotFoundError:
        pass
    try:
        shm.close()
    except BufferError:
        pass  # an array over it is still alive; the mapping goes with it


class StagePool:
    """``num_stages`` stages of one size; a request takes a free one and the
    reader of its result gives it back."""

    class _Member:
        def __init__(self, stage: Stage, pool: "StagePool"):
            self._stage, self._pool = stage, pool

        @property
        def name(self):
            return self._stage.name

        @property
        def size_nbytes(self):
            return self._stage.size_nbytes

        @contextmanager
        def _release(self):
            try:
                with self._stage._release() as as_array:
                    yield as_array
            finally:
                self._pool._return(self)

    def __init__(self, dataset, shape, num_stages: int, timeout: Optional[float] = None):
        if num_stages < 1:
            raise ValueError("a stage pool needs at least one stage")
        self._free = collections.deque()
        self._cvar = threading.Condition()
        self._timeout = timeout
        self._stages = [dataset.create_stage(shape) for _ in range(num_stages)]
        for stage in self._stages:
            self._free.append(StagePool._Member(stage, self))

    def _acquire(self):
        """A free stage; waits for one, raising queue.Empty after the pool's timeout."""
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        with self._cvar:
            while not self._free:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue.Empty()
                self._cvar.wait(remaining)
            member = self._free.popleft()
        member._stage._acquire()
        return member, member._stage

    def _return(self, member) -> None:
        with self._cvar:
            self._free.append(member)
            self._cvar.notify()

    def close(self) -> None:
        for stage in self._stages:
            stage.close()
