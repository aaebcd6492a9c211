"""The store connector's key-value interface over a RADOS pool: one
namespace per HDF5 file, one object per key.

RADOS strengths used: chunk writes and deletes go through librados aio
(AIO_WINDOW in flight, no thread per request; reads too with aio=all); a
node's link and attribute tables are omap entries of its zarr.json object,
updated by difference (node_tables.py); the file's keys are omap entries of
one index object (key_index.py); exclusive create and compare-and-swap on
the object version are single atomic write operations, each combined with
the omap update of the same object.
"""
from __future__ import annotations

import errno
import os
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

import rados

from h5pyvol.store.kv import KVStore

from . import node_tables, omap
from .cluster import op_timeout
from .key_index import KeyIndex

FIRST_READ = 256 << 10  # bytes asked for when an object's size is unknown (a zarr.json, mostly)
AIO_WINDOW = 16         # operations in flight per get_many/put_many (more only queue at the OSD)
METADATA = "zarr.json"
_LOST_RACE = (errno.ERANGE, errno.EOVERFLOW)  # assert_version: older / newer than expected


class RadosKV(KVStore):
    supports_conditional_put = True
    supports_versions = True
    max_key_length = 1024  # osd max object name len (RADOS' default is 2048)

    def __init__(self, cluster, pool: str, namespace: str, omap_tables: bool = True, aio=("write",)):
        self.pool = pool
        self.namespace = namespace
        self.omap_tables = omap_tables
        # which batches go through aio ("read", "write"; deletes go with writes), the
        # others on the store's threads: reads measured faster on threads (README, Speed)
        self.aio = frozenset(aio)
        self.timeout = op_timeout(cluster)
        self._cluster = cluster
        # an I/O context per thread: an operation's version (get_last_version)
        # is the context's last, and chunk compare-and-swaps run on many threads
        self._contexts = threading.local()
        self.index = KeyIndex(self.ioctx)  # listing without walking the pool
        # zarr.json key -> node_tables.TableState: its omap as last written or read here
        self._tables: dict[str, node_tables.TableState] = {}
        self._tables_lock = threading.Lock()
        self._catching_up: Optional[threading.Thread] = None  # _catch_up_with_the_cluster's wait
        self._catching_up_lock = threading.Lock()

    @property
    def ioctx(self):
        ioctx = getattr(self._contexts, "ioctx", None)
        if ioctx is None:
            try:
                ioctx = self._cluster.open_ioctx(self.pool)
            except rados.ObjectNotFound:
                raise FileNotFoundError(f"RADOS pool {self.pool!r} does not exist") from None
            ioctx.set_namespace(self.namespace)
            self._contexts.ioctx = ioctx
        return ioctx

    def describe(self) -> str:
        return f"rados://{self.pool}/{self.namespace}"

    def _error(self, code: int, text: str, what: str, key: str) -> OSError:
        """A librados failure as the OSError the store connector reports,
        naming the pool, the object and what the cluster said."""
        where = f"rados://{self.pool}/{self.namespace}" + (f"/{key}" if key else "")
        if code == errno.ETIMEDOUT:
            self._catch_up_with_the_cluster()
            return TimeoutError(code, f"Ceph cluster did not answer {what} of {where} within "
                                      f"{self.timeout:g} s (op_timeout): {text}")
        if code in (errno.EACCES, errno.EPERM):
            return PermissionError(code, f"Ceph refused {what} of {where}: {text}")
        return OSError(code, f"RADOS {what} of {where} failed: {text}")

    def _catch_up_with_the_cluster(self) -> None:
        """Fetches the cluster's newest OSD map after an operation timed out.
        librados asks the monitor for one only for operations older than
        ``objecter_timeout`` (10 s), which an op_timeout below that never
        reaches: after an OSD restarted (on new ports) the connection kept
        sending to the dead address and timed out forever.  With the new
        map the next call reaches the OSD again; this one still fails.
        The wait has no timeout of its own (with the monitor down it lasts
        until the monitor is back), so it runs on a thread of its own, one
        at a time, and the caller waits for it op_timeout at most."""
        with self._catching_up_lock:
            if self._catching_up is None or not self._catching_up.is_alive():
                self._catching_up = threading.Thread(target=self._wait_for_map, daemon=True,
                                                     name="h5pyvol-rados-osdmap")
                self._catching_up.start()
            waiting = self._catching_up
        waiting.join(self.timeout)

    def _wait_for_map(self) -> None:
        try:
            self._cluster.wait_for_latest_osdmap()
        except rados.Error:
            pass  # the next timeout tries again

    @contextmanager
    def _failing_clearly(self, what: str, key: str = ""):
        try:
            yield
        except rados.Error as exc:
            code = abs(getattr(exc, "errno", None) or errno.EIO)
            raise self._error(code, str(exc), what, key) from None

    def _check(self, completion, what: str, key: str) -> int:
        """An aio operation's result; raises its failure (a missing object is none)."""
        ret = completion.get_return_value()
        if ret < 0 and ret != -errno.ENOENT:
            raise self._error(-ret, os.strerror(-ret), what, key)
        return ret

    # -- reading ----------------------------------------------------------------------
    def _read(self, key: str, first: int = FIRST_READ) -> tuple[Optional[bytes], Optional[int]]:
        """(the object's bytes, its version), (None, None) when missing; the
        first read asks for ``first`` bytes (librados allocates that much)."""
        with self._failing_clearly("read", key):
            for _ in range(10):
                try:
                    data = self.ioctx.read(key, first, 0)
                    version = self.ioctx.get_last_version()
                    if len(data) < first:
                        return data, version
                    size = self.ioctx.stat(key)[0]
                    if size > len(data):
                        data += self.ioctx.read(key, size - len(data), len(data))
                    if self.ioctx.get_last_version() == version:
                        return data, version
                except rados.ObjectNotFound:
                    return None, None
            raise rados.OSError("the object kept changing while it was read", errno.EAGAIN)

    def get_versioned(self, key):
        data, version = self._read(key)
        if data is None or not key.endswith(METADATA):  # tables in omap are read whatever omap= says
            return data, None if version is None else str(version)
        for _ in range(10):
            stored = node_tables.parse_stored(data)
            if stored is None:
                return data, str(version)
            doc, expected = stored
            with self._failing_clearly("omap read", key):
                try:
                    entries, omap_version = omap.read_all(self.ioctx, key)
                except rados.ObjectNotFound:
                    return None, None
            try:
                state = node_tables.TableState.from_entries(version, entries)
            except ValueError as exc:
                raise OSError(errno.EIO, f"rados://{self.pool}/{self.namespace}/{key}: {exc}") from None
            if omap_version == version:
                if not state.matches(expected):  # unchanged between the reads, yet not what zarr.json counts
                    found = {t: len(state.tables.get(t, [])) for t in expected}
                    raise OSError(errno.EIO, f"rados://{self.pool}/{self.namespace}/{key}: its omap holds "
                                             f"{found} table entries, its zarr.json counts {expected}")
                with self._tables_lock:
                    self._tables[key] = state
                return state.merge(doc), str(version)
            data, version = self._read(key)  # written between the two reads: again
            if data is None:
                return None, None
        raise OSError(errno.EAGAIN, f"rados://{self.pool}/{self.namespace}/{key} kept changing while it was read")

    def get(self, key):
        return self.get_versioned(key)[0]

    def get_into(self, key, buffer):
        # one read of a byte more than expected says whether the object is
        # exactly that long: not the first-read, stat and rest of `_read`
        if key.endswith(METADATA):
            return super().get_into(key, buffer)
        with self._failing_clearly("read", key):
            try:
                data = self.ioctx.read(key, len(buffer) + 1, 0)
                if len(data) > len(buffer):
                    return self.ioctx.stat(key)[0]  # the length the caller reports
            except rados.ObjectNotFound:
                return None
        if len(data) == len(buffer):
            buffer[:] = data
        return len(data)

    def _pipelined(self, what: str, keys: list, submit) -> list:
        """Runs ``submit(i, on_complete)`` (an aio call returning its
        completion) for every key, at most AIO_WINDOW in flight: a finished
        operation lets the next one start.  Returns the completions, all
        finished, after raising the first failure."""
        slots = threading.BoundedSemaphore(AIO_WINDOW)
        completions = []
        try:
            for i, key in enumerate(keys):
                slots.acquire()
                with self._failing_clearly(what, key):
                    completions.append(submit(i, lambda *_: slots.release()))
        finally:
            for completion in completions:
                completion.wait_for_complete_and_cb()
        for key, completion in zip(keys, completions):
            self._check(completion, what, key)
        return completions

    def get_many(self, keys, executor, size_hint=None):
        """Every key's read through librados aio (AIO_WINDOW in flight), each
        into a buffer of ``size_hint`` bytes (librados reads need a length);
        objects that fill it are finished synchronously."""
        length = size_hint or FIRST_READ
        if "read" not in self.aio or len(keys) < 2 or any(k.endswith(METADATA) for k in keys):
            def one(key):
                return self.get(key) if key.endswith(METADATA) else self._read(key, length)[0]
            return [one(keys[0])] if len(keys) == 1 else list(executor.map(one, keys))
        results: list = [None] * len(keys)

        def submit(i, release):
            def store(completion, data):
                results[i] = data  # None when missing
                release()
            return self.ioctx.aio_read(keys[i], length, 0, store)
        self._pipelined("read", keys, submit)
        return [self._read(key, length)[0] if value is not None and len(value) >= length else value
                for key, value in zip(keys, results)]

    def get_range(self, key, start, length):
        with self._failing_clearly("read", key):
            try:
                if length > 0:
                    return self.ioctx.read(key, length, start)
                self.ioctx.stat(key)
                return b""
            except rados.ObjectNotFound:
                return None

    def exists(self, key):
        with self._failing_clearly("stat", key):
            try:
                self.ioctx.stat(key)
                return True
            except rados.ObjectNotFound:
                return False

    def total_size(self, prefix: str = "") -> int:
        """Object sizes from stat; a zarr.json counts whole, the link and
        attribute tables it keeps in omap included."""
        total = 0
        for key in self.list(prefix):
            if key.endswith(METADATA):
                total += len(self.get(key) or b"")
                continue
            with self._failing_clearly("stat", key):
                try:
                    total += self.ioctx.stat(key)[0]
                except rados.ObjectNotFound:  # the index names keys whose write never completed
                    pass
        return total

    def list(self, prefix: str = "") -> Iterator[str]:
        """From the file's key index (key_index.py), which may name a key
        whose write never completed: a get of it answers None."""
        with self._failing_clearly("listing"):
            return iter(self.index.list(prefix))

    # -- writing ----------------------------------------------------------------------
    def _write(self, key: str, value, *, exclusive=False, version: Optional[int] = None) -> Optional[int]:
        """One atomic write operation: the bytes and, for a zarr.json with
        tables, its omap; guarded by exclusive create or by the object's
        version.  Returns the new version, None when the guard failed."""
        value = bytes(value)
        with self._failing_clearly("index update", key):
            self.index.add([key])
        tables = {}
        if self.omap_tables and key.endswith(METADATA):
            value, tables = node_tables.split(value)
        with self._tables_lock:
            known = self._tables.get(key)
        change = None
        if tables and known is not None and not exclusive and (version is None or version == known.version):
            change = known.delta(tables)
        for attempt in ("delta", "whole") if change else ("whole",):
            with rados.WriteOpCtx() as op:
                if exclusive:
                    op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
                if attempt == "delta":
                    state, to_set, to_remove = change
                    op.assert_version(known.version)
                else:
                    state, to_set = node_tables.TableState.fresh(tables)
                    to_remove = []
                    if version is not None:
                        op.assert_version(version)
                op.write_full(value)
                if attempt == "whole" and not exclusive and key.endswith(METADATA):
                    self.ioctx.clear_omap(op)  # a node without tables keeps no stale entries
                if to_remove:
                    self.ioctx.remove_omap_keys(op, tuple(to_remove))
                if to_set:
                    self.ioctx.set_omap(op, tuple(to_set), tuple(to_set.values()))
                try:
                    with self._failing_clearly("write", key):
                        try:
                            self.ioctx.operate_write_op(op, key)
                        except rados.ObjectExists:
                            return None
                        except rados.OSError as exc:
                            if exc.errno not in _LOST_RACE and -exc.errno not in _LOST_RACE:
                                raise
                            if attempt == "delta" and version is None:
                                continue  # someone else wrote it: replace it whole
                            return None
                except OSError:
                    with self._tables_lock:
                        self._tables.pop(key, None)
                    raise
            new_version = self.ioctx.get_last_version()
            if key.endswith(METADATA):
                state.version = new_version
                with self._tables_lock:
                    self._tables[key] = state
            return new_version
        return None

    def put(self, key, value):
        self._write(key, value)

    def put_many(self, items, executor):
        """Every write through librados aio, AIO_WINDOW in flight."""
        with self._failing_clearly("index update", items[0][0] if items else ""):
            self.index.add([key for key, _ in items])  # one index update for the batch
        if "write" not in self.aio or len(items) < 2 or any(k.endswith(METADATA) for k, _ in items):
            return super().put_many(items, executor)
        self._pipelined("write", [key for key, _ in items],
                        lambda i, release: self.ioctx.aio_write_full(items[i][0], bytes(items[i][1]), release))

    def put_if_absent(self, key, value) -> bool:
        """An exclusive create and the write in one atomic operation."""
        return self._write(key, value, exclusive=True) is not None

    def put_if_version(self, key, value, version) -> Optional[str]:
        """Compare-and-swap on the object's version: the write applies only
        if nobody wrote the object since that version was read."""
        if version == self.ABSENT:
            written = self._write(key, value, exclusive=True)
        else:
            written = self._write(key, value, version=None if version is None else int(version))
        return None if written is None else str(written)

    def delete_prefix(self, prefix):
        """Every key under ``prefix`` removed through aio (truncating or
        deleting a file removes all its chunks)."""
        keys = list(self.list(prefix))
        with self._tables_lock:
            for key in keys:
                self._tables.pop(key, None)
        if "write" not in self.aio:
            for key in keys:
                self._remove(key)
        elif keys:
            self._pipelined("delete", keys, lambda i, release: self.ioctx.aio_remove(keys[i], release))
        with self._failing_clearly("index update"):
            if prefix:
                self.index.remove(keys)
            else:  # the whole file
                self.index.drop()

    def _remove(self, key):
        with self._tables_lock:
            self._tables.pop(key, None)
        with self._failing_clearly("delete", key):
            try:
                self.ioctx.remove_object(key)
            except rados.ObjectNotFound:
                pass

    def delete(self, key):
        self._remove(key)
        with self._failing_clearly("index update", key):
            self.index.remove([key])
