"""The key-value interface every storage backend implements, and the two
local ones (memory, directory).

Keys are "/"-separated strings relative to the store's root, such as
"grp/data/zarr.json" or "grp/data/c/0/1".  Values are bytes.
"""
from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import threading
import zlib
from abc import ABC, abstractmethod
from concurrent.futures import wait
from typing import Callable, Iterator, Optional


def in_parallel(executor, function: Callable, values) -> list:
    """``[function(v) for v in values]`` on the executor's threads.

    The threads reach the function, the values and the results only
    through a dict emptied before this returns.  A value may be a view of
    HDF5's buffer (a chunk written as it is, a region read into), and a pool
    thread keeps its last task, with its arguments and result, until it takes
    the next one: that can be after the HDF5 call has returned, which the
    bridge reports as a kept buffer (and the memory is HDF5's again).  For
    the same reason every task has finished before a failure is raised."""
    values = list(values)
    if len(values) < 2:
        return [function(v) for v in values]
    shared = {"function": function, "values": values, "results": [None] * len(values)}

    def run(i):
        shared["results"][i] = shared["function"](shared["values"][i])
    try:
        tasks = [executor.submit(run, i) for i in range(len(values))]
        wait(tasks)
        for task in tasks:
            task.result()  # the first failure, in order
        return shared["results"]
    finally:
        shared.clear()


class KVStore(ABC):
    """What the store connector needs from a backend.

    Contract: ``get`` returns None for a missing key (never raises
    KeyError); ``put`` replaces a value atomically (a reader sees the old or
    the new bytes, never a mix); ``list`` yields every key under a prefix.
    """

    #: whether put_if_absent is atomic against other processes
    supports_conditional_put = False
    #: why files here open for reading only (a zip archive), or None
    read_only: Optional[str] = None
    #: whether a small read answers in microseconds (no round trip): then a
    #: few ranged reads go faster one after another on the calling thread
    #: than handed to the workers and waited for
    local = False

    @abstractmethod
    def get(self, key: str) -> Optional[bytes]: ...

    @abstractmethod
    def put(self, key: str, value) -> None:
        """Stores ``value`` (bytes or any bytes-like object)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Removes a key; a missing key is not an error."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]: ...

    def get_many(self, keys: list, executor, size_hint: Optional[int] = None) -> list:
        """Values of several keys (None where missing), fetched concurrently:
        on the executor's threads unless the backend has asynchronous I/O of
        its own (RADOS aio).  ``size_hint``: the size most values will have
        (a chunk's), for backends that must size their read buffers."""
        if len(keys) == 1:
            return [self.get(keys[0])]
        return list(executor.map(self.get, keys))

    def get_into(self, key: str, buffer: memoryview) -> Optional[int]:
        """Reads the value of ``key`` into ``buffer`` (writable bytes) when it
        is exactly that long.  Returns the value's length, None when missing;
        after a different length the buffer's content is unspecified.
        Backends that can read into memory directly override it."""
        value = self.get(key)
        if value is None:
            return None
        if len(value) == len(buffer):
            buffer[:] = value
        return len(value)

    def get_each(self, keys: list, executor, consume: Callable, size_hint: Optional[int] = None) -> None:
        """``consume(i, value)`` for every key (value None where missing),
        called as each value arrives, on the thread that fetched it.  A
        backend with reads of its own (``get_many`` overridden: RADOS aio)
        fetches them all first."""
        if type(self).get_many is not KVStore.get_many:
            for i, value in enumerate(self.get_many(keys, executor, size_hint)):
                consume(i, value)
            return
        in_parallel(executor, lambda i: consume(i, self.get(keys[i])), range(len(keys)))

    def put_many(self, items: list, executor) -> None:
        """Stores several (key, value) pairs concurrently, as get_many reads."""
        if len(items) == 1:
            self.put(*items[0])
            return
        in_parallel(executor, lambda item: self.put(*item), items)

    def get_range(self, key: str, start: int, length: int) -> Optional[bytes]:
        value = self.get(key)
        return None if value is None else value[start:start + length]

    def put_if_absent(self, key: str, value: bytes) -> bool:
        """Stores ``value`` unless ``key`` exists; True if stored."""
        if self.get(key) is not None:
            return False
        self.put(key, value)
        return True

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def delete_prefix(self, prefix: str) -> None:
        for key in list(self.list(prefix)):
            self.delete(key)

    def total_size(self, prefix: str = "") -> int:
        """Bytes held by the keys under ``prefix`` (H5Fget_filesize).  The
        default reads every value; backends that know sizes override it."""
        return sum(len(self.get(key) or b"") for key in self.list(prefix))

    def describe(self) -> str:
        return type(self).__name__

    #: whether put_if_version is atomic against other processes
    supports_versions = False
    #: put_if_version's version for "only if the key does not exist yet"
    ABSENT = "absent"

    def get_versioned(self, key: str) -> tuple[Optional[bytes], Optional[str]]:
        """(value, version) where the backend can tell a value's version
        (S3: its ETag), else (value, None)."""
        return self.get(key), None

    def put_if_version(self, key: str, value: bytes, version: Optional[str]) -> Optional[str]:
        """Replaces the value only if it is still at ``version`` (ABSENT: only
        if there is none yet; None: whatever is there); returns the new
        version, or None when someone else changed it meanwhile.  Backends
        without versions just put."""
        self.put(key, value)
        return version

    #: the longest key the backend takes (None: no limit)
    max_key_length: Optional[int] = None

    def fits(self, node_path: str) -> bool:
        """Whether a node can live at this path: its longest keys (chunk
        keys of a high-rank array) stay within max_key_length."""
        return self.max_key_length is None or len(node_path.encode()) + 160 <= self.max_key_length

    def prepare_create(self) -> None:
        """Called before a file is created here (an object store creates its
        bucket; opening a file never does)."""

    def foreign_object(self) -> bool:
        """Whether something that is not a store sits where this store's root
        goes (a plain file at a directory store's path)."""
        return False

    def remove_foreign_object(self) -> None:
        """Removes it: creating a file with truncation replaces whatever was
        there, as H5Fcreate does natively."""


class MemoryKV(KVStore):
    """Keys in a dict, for the life of the process; copies every value."""

    supports_conditional_put = True
    local = True

    def __init__(self, name: str = ""):
        self.name = name
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._data.get(key)

    def put(self, key, value):
        self._data[key] = bytes(value)

    def put_if_absent(self, key, value):
        with self._lock:
            if key in self._data:
                return False
            self._data[key] = bytes(value)
            return True

    def delete(self, key):
        self._data.pop(key, None)

    def list(self, prefix=""):
        return iter([k for k in list(self._data) if k.startswith(prefix)])

    def total_size(self, prefix=""):
        return sum(len(v) for k, v in list(self._data.items()) if k.startswith(prefix))

    def describe(self):
        return f"mem://{self.name}"


class _KeyLocks:
    """Mutual exclusion per key across processes and threads, for a
    directory store's compare-and-swap: POSIX record locks on one byte per
    key stripe of a lock file.  The kernel drops a process's record locks
    when it dies, so a SIGKILLed writer never leaves a lock behind.  Record
    locks are per process (a second thread of the same process would not
    wait), hence a thread lock per stripe too."""

    STRIPES = 1 << 16

    def __init__(self, path: str):
        self.path = path
        self._fd: Optional[int] = None
        self._fd_pid = 0
        self._open_lock = threading.Lock()
        self._threads = [threading.Lock() for _ in range(256)]

    def _descriptor(self) -> int:
        with self._open_lock:
            if self._fd is None or self._fd_pid != os.getpid():
                # closing any descriptor of the file would drop all of this
                # process's locks on it: one descriptor, kept for the process
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
                self._fd_pid = os.getpid()
            return self._fd

    def hold(self, key: str):
        stripe = zlib.crc32(key.encode()) % self.STRIPES
        return _HeldStripe(self, stripe)


class _HeldStripe:
    def __init__(self, locks: _KeyLocks, stripe: int):
        self.locks, self.stripe = locks, stripe
        self.thread_lock = locks._threads[stripe % len(locks._threads)]

    def __enter__(self):
        self.thread_lock.acquire()
        try:
            self.fd = self.locks._descriptor()
            fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, self.stripe)
        except BaseException:
            self.thread_lock.release()
            raise

    def __exit__(self, *exc):
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, self.stripe)
        finally:
            self.thread_lock.release()


def _file_version(st: os.stat_result) -> str:
    # every put makes a new file (temporary + rename): a new inode and time
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def _umask() -> int:
    """This process's umask, read without changing it (os.umask sets it, and
    threads may be creating files meanwhile)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _new_temporary(path: str) -> tuple:
    """A temporary file beside ``path`` with the mode a plain open() would
    give a new file (0666 less the umask): mkstemp's 0600 would make a
    store's files unreadable to the group and others the user shares with."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


class DirectoryKV(KVStore):
    """Keys as files under a directory.  Writes go to a temporary file that
    is renamed into place, so a killed writer never leaves a torn value.
    Versions (compare-and-swap, for concurrent writers) are the file's
    inode, modification time and size, checked and replaced under a
    per-key lock (``_KeyLocks``, the lock file ``.h5pyvol-locks`` in the
    store's directory)."""

    supports_conditional_put = True
    supports_versions = True
    local = True
    LOCK_FILE = ".h5pyvol-locks"

    def __init__(self, root: str, fsync: bool = False):
        self.root = os.path.abspath(root)
        self.fsync = fsync
        self._locks: Optional[_KeyLocks] = None

    def _key_lock(self, key: str):
        if self._locks is None:
            self._locks = _KeyLocks(os.path.join(self.root, self.LOCK_FILE))
        return self._locks.hold(key)

    def rw_lock_path(self) -> str:
        """The lock file of the lock=rw mode (store/rwlock.py)."""
        os.makedirs(self.root, exist_ok=True)
        return os.path.join(self.root, ".h5pyvol-rwlock")

    def get_versioned(self, key):
        try:
            with open(self._path(key), "rb") as f:
                return f.read(), _file_version(os.fstat(f.fileno()))
        except (FileNotFoundError, NotADirectoryError):
            return None, None
        except IsADirectoryError:
            raise self._not_a_value(key) from None

    def put_if_version(self, key, value, version):
        if version is None:
            self.put(key, value)
            return self.get_versioned(key)[1]
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with self._key_lock(key):
            try:
                current = _file_version(os.stat(path))
            except FileNotFoundError:
                current = self.ABSENT
            if current != version:
                return None
            return _file_version(self._replace(path, value))

    def foreign_object(self) -> bool:
        return os.path.lexists(self.root) and not os.path.isdir(self.root)

    def prepare_create(self) -> None:
        # as natively, a file is created in a directory that exists, never
        # with its parents: a typo in a path must not become new directories
        parent = os.path.dirname(self.root)
        if not os.path.isdir(parent):
            raise FileNotFoundError(errno.ENOENT, f"unable to create file: directory {parent!r} does not exist")

    def remove_foreign_object(self) -> None:
        if self.foreign_object():
            os.remove(self.root)

    def _path(self, key: str) -> str:
        parts = key.split("/")
        if key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"unsafe store key {key!r}")
        return os.path.join(self.root, *parts)

    def get(self, key):
        try:
            with open(self._path(key), "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            raise self._not_a_value(key) from None

    def _not_a_value(self, key: str) -> OSError:
        # a directory where a value belongs: damage, never a missing key (a
        # chunk would read as fill values)
        return IsADirectoryError(errno.EISDIR, f"store key {key!r} in {self.root} is a directory, not a value")

    def get_into(self, key, buffer):
        # straight from the file into the caller's memory: no bytes object, no copy
        try:
            with open(self._path(key), "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                if size != len(buffer):
                    return size
                done = 0
                while done < size:
                    n = f.readinto(buffer[done:])
                    if not n:
                        return done  # shortened while read: the caller reports the length
                    done += n
                return size
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            raise self._not_a_value(key) from None

    def get_range(self, key, start, length):
        try:
            with open(self._path(key), "rb") as f:
                f.seek(start)
                return f.read(length)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            raise self._not_a_value(key) from None

    def put(self, key, value):
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._replace(path, value)

    def _replace(self, path: str, value) -> os.stat_result:
        """Writes ``value`` to a new file renamed over ``path``; its stat."""
        fd, tmp = _new_temporary(path)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(value)
                f.flush()  # before fstat: the version is the size and time of the whole value
                if self.fsync:
                    os.fsync(f.fileno())
                st = os.fstat(f.fileno())
            os.replace(tmp, path)
            return st
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def put_if_absent(self, key, value):
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = _new_temporary(path)
        with os.fdopen(fd, "wb") as f:
            f.write(value)
        try:
            os.link(tmp, path)  # atomic: fails if the key exists
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def delete(self, key):
        try:
            os.unlink(self._path(key))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            pass

    def list(self, prefix=""):
        base = self.root
        for directory, dirs, files in os.walk(base):
            rel = os.path.relpath(directory, base)
            rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            if prefix and not (rel.startswith(prefix) or prefix.startswith(rel)):
                dirs[:] = []
                continue
            for name in files:
                if name.startswith(".tmp-") or name.startswith(".h5pyvol-"):  # writes in progress, lock files
                    continue
                key = rel + name
                if key.startswith(prefix):
                    yield key

    def total_size(self, prefix=""):
        total = 0
        for key in self.list(prefix):
            try:
                total += os.stat(self._path(key)).st_size
            except FileNotFoundError:  # deleted since it was listed
                pass
        return total

    def delete_prefix(self, prefix):
        super().delete_prefix(prefix)
        # drop directories emptied by the deletion
        start = self.root if not prefix else os.path.join(self.root, *prefix.rstrip("/").split("/"))
        for directory, _, _ in sorted(os.walk(start), key=lambda t: -len(t[0])):
            try:
                if directory != self.root:
                    os.rmdir(directory)
            except OSError:
                pass

    def describe(self):
        return self.root
