"""Python exceptions <-> HDF5 error codes.

A connector raises ordinary exceptions; :func:`hdf5_codes` picks the HDF5
major/minor codes the bridge pushes, chosen so h5py turns them back into the
exception a native file would give (h5py maps the minor code: NOTFOUND ->
KeyError, EXISTS -> ValueError, UNSUPPORTED -> NotImplementedError, file
errors -> OSError, and "errno = N" in the message -> the OSError subclass of
that errno, e.g. FileNotFoundError).
"""
from __future__ import annotations

import errno
import gc
import os
import traceback


class H5PyVOLError(Exception):
    """Base of the errors this package raises itself."""


class NameExistsError(H5PyVOLError, ValueError):
    """A link name is already taken (HDF5: H5E_EXISTS)."""


class ConnectorConfigError(H5PyVOLError, ImportError):
    """The connector named in the configuration cannot be loaded."""


# (exception class, major, minor), most specific first.  major None keeps the
# major code of the HDF5 interface that made the call.
_TABLE = [
    (FileNotFoundError, "H5E_FILE", "H5E_CANTOPENFILE"),
    (FileExistsError, "H5E_FILE", "H5E_FILEEXISTS"),
    (PermissionError, None, "H5E_WRITEERROR"),
    (IsADirectoryError, "H5E_FILE", "H5E_CANTOPENFILE"),
    (NotADirectoryError, "H5E_FILE", "H5E_CANTOPENFILE"),
    (ConnectorConfigError, "H5E_VOL", "H5E_CANTINIT"),
    (NameExistsError, None, "H5E_EXISTS"),
    (KeyError, None, "H5E_NOTFOUND"),
    (NotImplementedError, None, "H5E_UNSUPPORTED"),
    (TypeError, "H5E_ARGS", "H5E_BADTYPE"),
    (IndexError, "H5E_ARGS", "H5E_BADRANGE"),
    (ValueError, "H5E_ARGS", "H5E_BADVALUE"),
    (MemoryError, "H5E_RESOURCE", "H5E_CANTALLOC"),
    (OSError, None, "H5E_CANTOPENFILE"),
]


_ERRNO_OF = {FileNotFoundError: errno.ENOENT, FileExistsError: errno.EEXIST, PermissionError: errno.EACCES,
             IsADirectoryError: errno.EISDIR, NotADirectoryError: errno.ENOTDIR}


def hdf5_codes(exc: BaseException) -> tuple[str | None, str]:
    for cls, major, minor in _TABLE:
        if isinstance(exc, cls):
            return major, minor
    return None, "H5E_CALLBACK"


def describe(exc: BaseException, where: str) -> tuple[str, str, str]:
    """(major, minor, message) for the HDF5 error entry of ``exc``.

    The message names the exception type and its text; with
    ``H5PYVOL_DEBUG=1`` the traceback follows.
    """
    major, minor = hdf5_codes(exc)
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, OSError):
        # what h5py reads to raise FileNotFoundError, FileExistsError, PermissionError, ...
        code = exc.errno or _ERRNO_OF.get(type(exc))
        if code:
            message += f", errno = {code}"
    message += f" (in {where})"
    if os.environ.get("H5PYVOL_DEBUG") == "1":
        message += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    _release_frames(exc)
    if collect_before_reporting:
        gc.collect()
    return major or "", minor, message


#: Set when the plugin joins a Python host (h5py).  Frames of connector code
#: keep their callers' frames alive, h5py's among them, and a frame in a
#: reference cycle (an exception handled anywhere in a connector's call makes
#: one) waits for the cyclic collector.  When that collector runs inside
#: h5py's translation of an HDF5 error, the h5py objects it frees close
#: their HDF5 ids, the close clears HDF5's error stack, and h5py goes on to
#: read the message HDF5 just freed: garbage, or a UnicodeDecodeError in
#: place of the error.  So the garbage goes before the error is reported;
#: a full collection costs some milliseconds, paid only by failing calls.
collect_before_reporting = False


def _release_frames(exc: BaseException) -> None:
    """Drops what the frames of a reported exception (and of the ones it
    chains) still hold.  Exceptions and frames often form cycles, and each
    frame keeps its caller's frame: under h5py that is h5py's own frame,
    with h5py objects whose deallocation calls HDF5.  Left to the cyclic
    collector, they were freed at some later allocation, such as the one
    in h5py's translation of the next error, which then read the stack
    entry HDF5 had just freed (a UnicodeDecodeError instead of the error)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
