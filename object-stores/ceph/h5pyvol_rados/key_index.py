"""Every key of a file as an omap entry of one object of its namespace.

RADOS answers "list this namespace" by walking every placement group of the
pool and filtering by namespace: the cost grows with the whole pool, not
with the file.  The store lists keys whenever it moves or deletes a node
(h5py's ``f[name] = array`` moves an anonymous dataset into place), so a
file keeps the names of its objects in the omap of ``%index`` (store keys
never start with "%i": names are percent-encoded), which RADOS lists by
prefix, sorted, touching that one object.

The index may name more than exists, never less: a key goes in before its
object is written and comes out after its object is removed.  A namespace
without an index (a new file, or one another tool wrote) is indexed from a
scan when this backend first writes to it, and listed by scanning until
then: one walk of the pool per file created, none per operation.
"""
from __future__ import annotations

import threading
from typing import Optional

import rados

from . import omap

INDEX = "%index"


class KeyIndex:
    def __init__(self, ioctx):
        self.ioctx = ioctx
        self._known: Optional[set] = None  # keys surely in the index, loaded at the first write
        self._lock = threading.Lock()

    def _read(self, prefix: str) -> list:
        """The indexed keys under ``prefix``, sorted; raises ObjectNotFound
        when the namespace has no index."""
        return sorted(omap.read_all(self.ioctx, INDEX, prefix, until_empty=True)[0])

    def _scan(self) -> list:
        return sorted(o.key for o in self.ioctx.list_objects() if o.key != INDEX)

    def list(self, prefix: str = "") -> list:
        try:
            return self._read(prefix)
        except rados.ObjectNotFound:
            return [k for k in self._scan() if k.startswith(prefix)]

    def _set(self, keys: list) -> None:
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_IDEMPOTENT)  # an empty index still exists
            if keys:
                self.ioctx.set_omap(op, tuple(keys), (b"",) * len(keys))
            self.ioctx.operate_write_op(op, INDEX)

    def add(self, keys) -> None:
        """Before ``keys`` are written."""
        with self._lock:
            if self._known is None:
                try:
                    self._known = set(self._read(""))
                except rados.ObjectNotFound:  # a new file, or one another tool wrote: index what is there
                    self._known = set(self._scan())
                    self._set(sorted(self._known))
            new = sorted(set(keys) - self._known)
            if new:
                self._set(new)
                self._known.update(new)

    def remove(self, keys) -> None:
        """After ``keys`` were removed."""
        keys = list(keys)
        if not keys:
            return
        with self._lock:
            if self._known is not None:
                self._known.difference_update(keys)
            with rados.WriteOpCtx() as op:
                self.ioctx.remove_omap_keys(op, tuple(keys))
                try:
                    self.ioctx.operate_write_op(op, INDEX)
                except rados.ObjectNotFound:
                    pass

    def drop(self) -> None:
        """The whole file is gone (every listed key removed): the namespace is
        empty, and the next write starts a new index without a scan."""
        with self._lock:
            self._known = set()
            try:
                self.ioctx.remove_object(INDEX)
            except rados.ObjectNotFound:
                pass
