"""A bound on how long one connector call may take (``call_timeout=SECONDS``
in the connector info).

A connector method that blocks (a lock another process never gives back, a
server that accepts and never answers) would otherwise hang the HDF5 call
and the host with it.  With a bound set, every call into that connector
runs on a thread of its own while the HDF5 call waits for it; past the
bound the HDF5 call fails with :class:`ConnectorTimeoutError`.

A thread cannot be stopped safely from outside: interrupting it could leave
the connector's own state half-changed, which later calls would then read
as data.  So the late call runs to its end, and until it has, every call
into the same connector fails at once with :class:`ConnectorBusyError`
instead of racing it.  Its outcome is unknown to the caller, as after any
timeout: a write that timed out may still land.

HDF5's buffers are never lent to a call that may outlive them: a write's
data is copied before the call, a read fills a copy that is copied into
HDF5's buffer only when the call finished in time.  Connectors that call
HDF5 themselves must not set a bound: after a timeout their late call would
run inside HDF5 alongside the host.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Callable, Optional

import numpy as np

from .errors import ConnectorConfigError, H5PyVOLError


class ConnectorTimeoutError(H5PyVOLError, TimeoutError):
    """A connector call did not return within the connector's call_timeout."""


class ConnectorBusyError(H5PyVOLError, TimeoutError):
    """A call that timed out earlier is still running in the same connector."""


def parse(options: dict[str, str]) -> Optional[float]:
    """Takes ``call_timeout`` out of the connector info settings: seconds, or None."""
    text = options.pop("call_timeout", None)
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise ConnectorConfigError(f"H5PyVOL setting call_timeout={text!r}: expected a number of seconds above 0")
    return seconds


_thread_state = threading.local()


def inside() -> bool:
    """Is this thread already running a bounded call (whose inner operations are not bounded again)?"""
    return getattr(_thread_state, "inside", False)


class _Call:
    """One call handed to the watch's thread, and what became of it."""

    def __init__(self, where: str, function: Callable, args: tuple, kwargs: dict):
        self.where, self.function, self.args, self.kwargs = where, function, args, kwargs
        self.result = self.error = None
        self.finished = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        try:
            self.result = self.function(*self.args, **self.kwargs)
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        finally:
            self.function = self.args = self.kwargs = None
            self.finished.set()


class CallWatch:
    """Runs one connector's calls under its bound on a thread of its own (one
    thread for all of them: starting a thread per call cost 15 times the
    call), and remembers a call that outlived its bound."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._late: Optional[_Call] = None

    def run(self, where: str, function: Callable, args: tuple, kwargs: dict):
        self._refuse_while_late(where)
        args, copy_back = _private_buffers(args)
        call = _Call(where, function, args, kwargs)
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="h5pyvol call_timeout", daemon=True)
            self._thread.start()
        self._calls.put(call)
        if not call.finished.wait(self.seconds):
            self._late = call
            raise ConnectorTimeoutError(
                f"{where}: the connector did not return within call_timeout={self.seconds:g} s. The call goes on "
                "in the background and may still take effect; calls to this connector fail until it returns")
        if call.error is not None:
            error, call.error = call.error, None
            raise error
        for scratch, target in copy_back:
            target[:] = scratch
        return call.result

    def _serve(self) -> None:
        _thread_state.inside = True
        while True:
            self._calls.get().run()

    def _refuse_while_late(self, where: str) -> None:
        late = self._late
        if late is None:
            return
        if late.finished.is_set():
            self._late = None
            return
        raise ConnectorBusyError(
            f"{where}: refused, the connector is still running {late.where}, which timed out "
            f"{time.monotonic() - late.started - self.seconds:.1f} s ago (call_timeout={self.seconds:g} s)")

    def wait_for_late_call(self) -> bool:
        """At shutdown: gives a late call one more bound to finish; False when it did not."""
        late = self._late
        if late is None:
            return True
        if not late.finished.wait(self.seconds):
            print(f"H5PyVOL: {late.where} is still running at shutdown (call_timeout={self.seconds:g} s); "
                  "the connector is not shut down, and what it had not written is lost", file=sys.stderr)
            return False
        self._late = None
        return True


def _private_buffers(args: tuple) -> tuple[tuple, list]:
    """``args`` with HDF5's buffers (memoryviews) replaced by copies, and the
    (copy, buffer) pairs to copy back once the call has finished."""
    if not any(isinstance(a, memoryview) for a in args):
        return args, []
    private, copy_back = [], []
    for a in args:
        if isinstance(a, memoryview):
            if a.readonly:
                a = memoryview(bytes(a))
            else:
                # a read fills every byte of the view: the bridge hands it the
                # selected elements packed (io.c), and scatters them itself
                scratch = memoryview(np.empty(a.nbytes, np.uint8))  # not zeroed: bytearray's zeroing cost more than the call
                copy_back.append((scratch, a))
                a = scratch
        private.append(a)
    return tuple(private), copy_back
