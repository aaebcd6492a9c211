"""Reader: random-access reads of one file by worker processes into shared memory.

Each worker opens the file itself (read-only, through the connector that
serves it: ``files.open_file``) and serves requests from one queue: it
attaches to the request's stage by name, applies the operation and reports
(dtype, shape) or the exception.  A thread of the reader's process wakes
the request.  Workers are spawned, not forked: the parent has HDF5, the
plugin and possibly librados threads running, none of which survive a fork.

A worker that dies (killed, out of memory) stops the reader: every pending
request raises WorkerDied, after the other workers are stopped too, so
nothing writes into a stage once its request has failed."""
from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import traceback
from collections.abc import Iterable
from contextlib import contextmanager
from multiprocessing import connection, shared_memory
from typing import Callable, Optional

import numpy as np

from .. import files
from .ops import CoordsOp, FieldOp, IndexOp, RowsOp, field_type, is_coords, is_simple_slice
from .request import Request
from .signals import QueueClosed, QueueClosedException, WorkerDied, subprocess_exception
from .stage import Stage, StagePool

_IDLE_SECONDS = 0.1


def refuse_unshareable(filename: str) -> None:
    if str(filename).startswith("mem://"):
        raise ValueError(f"{filename}: a mem:// file lives in one process; stream workers are other "
                         "processes and cannot see it (use a directory store, s3://, rados:// or an .h5 file)")


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _serve(filename: str, open_kwargs: dict, requests, results, stop) -> None:
    """A worker process: open the file, serve requests until told to stop."""
    try:
        h5file = files.open_file(filename, "r", **open_kwargs)
    except BaseException as error:
        results.put(("fatal", None, _portable(error), traceback.format_exc()))
        return
    nodes, stages = {}, {}
    parent = multiprocessing.parent_process()
    try:
        while not stop.is_set():
            try:
                message = requests.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                if not parent.is_alive():  # the reader's process is gone without closing it
                    break
                _forget_closed_stages(stages)
                continue
            if message is None:
                requests.put(None)  # the next worker sees it too
                break
            req_id, op, stage_name = message
            try:
                stage = stages.get(stage_name)
                if stage is None:
                    stage = stages[stage_name] = shared_memory.SharedMemory(stage_name)
                node = nodes.get(op.path)
                if node is None:
                    node = nodes[op.path] = h5file[op.path]
                dtype, shape = op.apply(node, stage.buf)
                results.put(("done", req_id, dtype, tuple(shape)))
            except Exception as error:
                results.put(("error", req_id, _portable(error), traceback.format_exc()))
    finally:
        for stage in stages.values():
            stage.close()
        h5file.close()


def _forget_closed_stages(stages: dict) -> None:
    for name in [n for n in stages if not os.path.exists(f"/dev/shm/{n.lstrip('/')}")]:
        stages.pop(name).close()


@contextmanager
def _main_module_hidden():
    """Spawned children skip re-running the parent's main script.

    A spawned child imports the parent's ``__main__`` (from its file or
    module name) before it runs its target; a script without an
    ``if __name__ == "__main__"`` guard would then start workers from each
    worker and fail.  The workers' code lives in this package, so they need
    nothing of the main script: multiprocessing reads ``__spec__`` and
    ``__file__`` of ``__main__`` only while a process starts."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__spec__", "__file__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


class Reader:
    """Reads parts of datasets of ``filename`` in ``n_procs`` worker processes.

    ``notify(request)`` (optional) is called in a thread of this process when
    a request is fulfilled or has failed, and ``notify(QueueClosed)`` once
    the workers have ended.  Keyword arguments go to ``files.open_file``
    (``format="native"`` or ``"store"``)."""

    def __init__(self, filename, n_procs: int = 4, notify: Optional[Callable] = None, **open_kwargs):
        filename = os.fspath(filename)
        refuse_unshareable(filename)
        if n_procs < 1:
            raise ValueError("n_procs must be at least 1")
        self._filename, self._open_kwargs, self._notify_fn = filename, open_kwargs, notify
        context = multiprocessing.get_context("spawn")
        self._requests, self._results, self._stop = context.Queue(), context.Queue(), context.Event()
        self._pending: dict[int, Request] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._closed = threading.Event()
        self._workers_gone, self._ended = threading.Event(), threading.Event()
        self._break_lock = threading.RLock()
        self._broken: Optional[BaseException] = None
        self._procs = [context.Process(target=_serve, daemon=True, name=f"h5pyvol-stream-{i}",
                                       args=(filename, open_kwargs, self._requests, self._results, self._stop))
                       for i in range(n_procs)]
        with _main_module_hidden():
            for proc in self._procs:
                proc.start()
        self._monitor = threading.Thread(target=self._watch_workers, daemon=True)
        self._monitor.start()
        self._dispatcher = threading.Thread(target=self._dispatch, daemon=True)
        self._dispatcher.start()

    # -------------------------------------------------------------- workers
    #
    # A worker killed at the wrong moment can die holding a lock of a queue
    # it shares (its feeder thread's write lock on the results pipe, or half
    # a message in it).  So a death is handled here, in the monitor, never
    # sent through the results queue, and nothing waits for the dispatcher
    # once the reader is broken: the dispatcher may never wake again.

    def _watch_workers(self) -> None:
        alive = {proc.sentinel: proc for proc in self._procs}
        while alive:
            for sentinel in connection.wait(list(alive)):
                proc = alive.pop(sentinel)
                proc.join()
                if proc.exitcode != 0 and not self._stop.is_set():
                    self._break(WorkerDied(f"stream worker process {proc.pid} of {self._filename} "
                                           f"exited with code {proc.exitcode}; the reader is stopped"))
        self._workers_gone.set()
        if self._broken is not None:
            self._end()

    def _dispatch(self) -> None:
        while not self._ended.is_set():
            try:
                kind, req_id, a, b = self._results.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                if self._workers_gone.is_set():  # every worker's messages were in the pipe before it exited
                    self._end()
                continue
            if kind == "done":
                self._finish(req_id, a, b, None)
            elif kind == "error":
                self._finish(req_id, None, None, subprocess_exception(a, b))
            elif kind == "fatal":
                self._break(subprocess_exception(a, b))

    def _break(self, error: BaseException) -> None:
        """Stops every worker, then fails what is pending with ``error``."""
        with self._break_lock:
            if self._broken is not None:
                return
            # first, so that a request made while the workers are halted is
            # refused with the reason (not as if the user had closed the reader)
            with self._lock:
                self._broken = error
            self._halt_workers()
            # messages a dead worker's lock holds back are lost anyway: exiting must not wait for them
            self._requests.cancel_join_thread()
            self._fail_pending(error)

    def _end(self) -> None:
        with self._break_lock:
            if self._ended.is_set():
                return
            self._fail_pending(self._broken or QueueClosedException("This reader has been closed."))
            self._ended.set()
        if self._notify_fn is not None:
            self._notify_fn(QueueClosed)

    def _finish(self, req_id: int, dtype, shape, error) -> None:
        with self._lock:
            req = self._pending.pop(req_id, None)
        if req is None:
            return  # failed already when the reader broke
        req._notify(dtype, shape, error)
        if self._notify_fn is not None:
            self._notify_fn(req)

    def _fail_pending(self, error: BaseException) -> None:
        # one lock with request(): a request is either failed here or refused there
        with self._lock:
            failed, self._pending = list(self._pending.values()), {}
        for req in failed:
            req._notify(None, None, error)
            if self._notify_fn is not None:
                self._notify_fn(req)

    def _halt_workers(self) -> None:
        """No worker writes into a stage after this returns."""
        self._closed.set()
        self._stop.set()
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():  # a library in it may handle SIGTERM
                proc.kill()
                proc.join()

    # ----------------------------------------------------------------- API

    def get_dataset(self, path: str) -> "Dataset":
        """A proxy of the dataset at ``path``: index it to build requests."""
        with files.open_file(self._filename, "r", **self._open_kwargs) as h5file:
            node = h5file[path]
            if not hasattr(node, "dtype"):
                raise TypeError(f"{path} in {self._filename} is not a dataset")
            return Dataset(path, node.dtype, node.shape, node.chunks)

    def request(self, key, stage) -> Request:
        """Queues the read ``key`` (built by indexing a dataset proxy) into
        ``stage`` (a Stage, or a StagePool to take a free stage from)."""
        self._refuse_if_ended()
        if isinstance(key, Dataset):
            key = key[...]
        owner, memory = stage._acquire()
        with self._lock:
            try:
                self._refuse_if_ended()
            except BaseException:
                with owner._release():  # the stage back to its pool
                    pass
                raise
            req = Request(next(self._ids), owner)
            self._pending[req.req_id] = req
            self._requests.put((req.req_id, key, memory.name))
        return req

    def _refuse_if_ended(self) -> None:
        if self._broken is not None:
            raise self._broken
        if self._closed.is_set():
            raise RuntimeError("Attempt to request data from a closed reader.")

    def close(self, wait: bool = False) -> None:
        """No more requests; pending ones are still fulfilled, then the
        workers end.  ``wait``: return only once they have."""
        with self._lock:  # every request accepted before this is queued before the end marker
            if not self._closed.is_set():
                self._closed.set()
                self._requests.put(None)
        if wait:
            self._ended.wait()

    def stop(self) -> None:
        """Ends the workers now; pending requests raise QueueClosedException."""
        self.close()
        self._stop.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(wait=True)

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass


class Dataset:
    """A dataset of a Reader's file; indexing it builds a request.

    ``dataset[a:b]``, ``dataset[i]``, ``dataset['col']``, ``dataset['col'][a:b]``,
    ``dataset[a:b]['col']``, ``dataset[[3, 1, 2]]``, any other h5py index,
    then numpy indexing of the result: ``dataset[a:b][:, 0]``."""

    def __init__(self, path: str, dtype: np.dtype, shape: tuple, chunks: Optional[tuple] = None):
        self._path, self.dtype, self.shape, self.chunks = path, dtype, tuple(shape), chunks

    @property
    def path(self) -> str:
        return self._path

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.col(key)
        if isinstance(key, (int, np.integer)):
            return RowsOp(self._path, None, int(key), scalar=True)
        if isinstance(key, slice):
            return RowsOp(self._path, None, key.start, key.stop, key.step)
        if is_simple_slice(key):
            return RowsOp(self._path, None, key[0].start, key[0].stop, key[0].step)
        if is_coords(key):
            return CoordsOp(self._path, None, key)
        return IndexOp(self._path, key)

    def col(self, name: str) -> FieldOp:
        field_type(self.dtype, name, self._path)
        return FieldOp(self._path, name)

    def read(self, start=None, stop=None, step=None, field: Optional[str] = None) -> RowsOp:
        if field is not None:
            field_type(self.dtype, field, self._path)
        return RowsOp(self._path, field, start, stop, step)

    def read_coordinates(self, coords, field: Optional[str] = None) -> CoordsOp:
        return CoordsOp(self._path, field, coords)

    def _fill_shape(self, shape) -> tuple:
        """A shape with its missing or None/-1 dimensions taken from the dataset's."""
        shape = list(shape) if isinstance(shape, Iterable) else [shape]
        shape += [-1] * (len(self.shape) - len(shape))
        return tuple(self.shape[i] if s is None or s == -1 else s for i, s in enumerate(shape))

    def create_stage(self, shape) -> Stage:
        """A stage for results of up to ``shape`` (missing dimensions: the dataset's)."""
        return Stage(self.dtype.itemsize * int(np.prod(self._fill_shape(shape), dtype=np.int64)))

    def create_stage_natoms(self, size_natoms: int) -> Stage:
        return Stage(self.dtype.itemsize * size_natoms)

    def create_stage_pool(self, shape, num_stages: int) -> StagePool:
        return StagePool(self, shape, num_stages)
