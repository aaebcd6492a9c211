"""The end-of-stream marker and the exceptions of ``h5pyvol.stream``,
named as multitables names them so code written for it keeps working."""
from __future__ import annotations


class _QueueClosedType:
    """The one object a queue returns once no more blocks will come."""
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self):
        return (_QueueClosedType, ())

    def __repr__(self):
        return "QueueClosed"


QueueClosed = _QueueClosedType()


class QueueClosedException(Exception):
    """A request that the reader will not fulfil: it was closed or stopped first."""


class SubprocessException(Exception):
    """An exception raised in a worker process, re-raised where the result is read.

    The raised object is also an instance of the worker's exception class
    (``except KeyError`` still catches a missing dataset); the worker's
    traceback is part of the message."""


class ReleasedResourceError(Exception):
    """A block used after its guard closed: its memory now holds another block."""


class WorkerDied(SubprocessException, RuntimeError):
    """A worker process ended without being asked to (killed, out of memory)."""


def subprocess_exception(cause: BaseException, worker_traceback: str = "") -> SubprocessException:
    """An exception of a class deriving from both ``type(cause)`` and
    SubprocessException, carrying ``cause``."""
    if isinstance(cause, SubprocessException):
        return cause
    text = f"{type(cause).__name__}: {cause}"
    if worker_traceback:
        text += f"\n\nraised in a stream worker process:\n{worker_traceback}"
    try:
        cls = type(f"Subprocess{type(cause).__name__}", (type(cause), SubprocessException), {
            "__str__": lambda self: text,
            "__init__": lambda self: None,
        })
        error = cls()
        error.args = (text,)
    except TypeError:  # a class that cannot be subclassed or built without its arguments
        error = SubprocessException(text)
    error.__cause__ = cause
    return error
