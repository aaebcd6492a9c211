"""Requests: the future of one read, and the ways to look at its result.

``get()`` copies the result out and frees the stage; ``get_direct(fn)``
calls ``fn`` on the stage's memory itself; ``get_unsafe()`` yields that
memory in a ``with`` block; ``get_proxy()`` yields a proxy that refuses
every use once the block ends (the stage then holds another result, and a
kept reference would silently show other data)."""
from __future__ import annotations

import collections
import threading
from contextlib import contextmanager

import wrapt

from .signals import ReleasedResourceError, subprocess_exception


class _Released:
    """What a released proxy wraps: every use raises ReleasedResourceError."""

    def __getattr__(self, name):
        if name.startswith("__"):  # wrapt asks for __qualname__ & co. when it wraps
            raise AttributeError(name)
        _released()


def _released(*args, **kwargs):
    raise ReleasedResourceError("This block has been released (its guard closed) and is no longer "
                                "accessible; copy what you need inside the with block.")


_SPECIAL = set().union(*(dir(t) for t in (object, float, dict, str, __import__("numpy").ndarray))) | {"__call__"}
for _name in _SPECIAL - {"__class__", "__init__", "__new__", "__doc__", "__getattribute__", "__getattr__",
                         "__setattr__", "__init_subclass__", "__subclasshook__", "__reduce__", "__reduce_ex__"}:
    # a property: numpy reads __array_struct__ & co. as values, not methods
    setattr(_Released, _name, property(_released))


class BlockProxy(wrapt.ObjectProxy):
    """A numpy array standing in for the stage's memory until released."""

    def release(self) -> None:
        self.__wrapped__ = _Released()


class Request:
    """One read in flight; ready when a worker has written its result."""

    def __init__(self, req_id: int, stage):
        self.req_id = req_id
        self._stage = stage
        self._ready = threading.Event()
        self._dtype = self._shape = None
        self._exception = None

    def _notify(self, dtype, shape, exception: BaseException = None) -> None:
        self._dtype, self._shape, self._exception = dtype, shape, exception
        self._ready.set()

    def ready(self) -> bool:
        return self._ready.is_set()

    @contextmanager
    def get_unsafe(self):
        """Waits for the result and yields the stage's memory as an array;
        the stage is free for the next request after the block."""
        self._ready.wait()
        with self._stage._release() as as_array:
            if self._exception is not None:
                raise self._exception
            yield as_array(self._dtype, self._shape)

    def get_direct(self, action) -> None:
        """Calls ``action(array)`` on the stage's memory; ``action`` must not keep it."""
        with self.get_unsafe() as data:
            action(data)

    @contextmanager
    def get_proxy(self):
        """Yields a proxy of the result that refuses every use after the block."""
        with self.get_unsafe() as data:
            proxy = BlockProxy(data)
            try:
                yield proxy
            finally:
                proxy.release()

    def get(self):
        """A copy of the result, free of the stage."""
        with self.get_unsafe() as data:
            return data.copy()


class FailedRequest(Request):
    """A request that never reached a worker: reading it raises ``exception``."""

    def __init__(self, exception: BaseException):
        super().__init__(-1, _NoStage())
        self._notify(None, None, subprocess_exception(exception))


class _NoStage:
    @contextmanager
    def _release(self):
        yield None


class RequestPool:
    """Requests in the order they are added; ``next()`` waits for one."""

    def __init__(self):
        self._queue = collections.deque()
        self._cvar = threading.Condition()

    def add(self, req) -> None:
        with self._cvar:
            self._queue.append(req)
            self._cvar.notify()

    def next(self):
        with self._cvar:
            while not self._queue:
                self._cvar.wait()
            return self._queue.popleft()
