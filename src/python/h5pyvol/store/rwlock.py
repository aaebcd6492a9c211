"""The ``lock=rw`` mode: one writer at a time, readers in parallel, the way
h5pySWMR serializes h5py -- without a server.

Every HDF5 operation on a file takes a lock for its duration: shared for
reads, exclusive for writes (and a write's metadata is flushed before the
lock is released, so the next reader sees it whole).  The lock is
``flock`` on a lock file, which the kernel releases when its process dies:
a SIGKILLed writer or reader never leaves the others waiting.  The lock
file sits in a directory store's own directory; for other backends it is
a file in the machine's temporary directory named after the store, so the
mode serializes processes of one machine only.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile


def lock_path(kv) -> str:
    own = getattr(kv, "rw_lock_path", None)
    if own is not None:
        return own()
    where = os.path.join(tempfile.gettempdir(), "h5pyvol-locks")
    os.makedirs(where, exist_ok=True)
    return os.path.join(where, hashlib.sha1(kv.describe().encode()).hexdigest() + ".lock")


class ReadersWriterLock:
    """flock on ``path``: held by at most one operation of this process at a
    time (StoreFile.operation nests and serializes them)."""

    def __init__(self, path: str):
        self.path = path
        self._fd = self._gate = None
        self._pid = 0

    def acquire(self, exclusive: bool) -> None:
        if self._pid != os.getpid():  # a forked child must not share its parent's open file (and lock)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            self._gate = os.open(self.path + ".gate", os.O_RDWR | os.O_CREAT, 0o666)
            self._pid = os.getpid()
        # flock alone lets readers whose operations overlap keep a writer
        # waiting for ever.  Everyone passes a gate first, and a writer holds
        # it while it waits: readers that come later queue behind it.
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
