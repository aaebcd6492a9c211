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
    return major or "", minor, message
