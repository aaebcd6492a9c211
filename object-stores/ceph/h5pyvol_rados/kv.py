"""The store connector's key-value interface over a RADOS pool: one
namespace per HDF5 file, one object per key."""
from __future__ import annotations

from typing import Iterator, Optional

import rados

from h5pyvol.store.kv import KVStore

READ_ALL = 1 << 30  # rados reads need a length; larger than any chunk or zarr.json


class RadosKV(KVStore):
    supports_conditional_put = True
    supports_versions = True
    max_key_length = 1024  # osd max object name len (RADOS' default is 2048)

    def __init__(self, cluster, pool: str, namespace: str):
        self.pool = pool
        self.namespace = namespace
        try:
            self.ioctx = cluster.open_ioctx(pool)
        except rados.ObjectNotFound:
            raise FileNotFoundError(f"RADOS pool {pool!r} does not exist") from None
        self.ioctx.set_namespace(namespace)

    def describe(self) -> str:
        return f"rados://{self.pool}/{self.namespace}"

    def get(self, key):
        return self.get_versioned(key)[0]

    def get_versioned(self, key):
        try:
            data = self.ioctx.read(key, READ_ALL, 0)
        except rados.ObjectNotFound:
            return None, None
        return data, str(self.ioctx.get_last_version())

    def get_range(self, key, start, length):
        try:
            return self.ioctx.read(key, length, start) if length > 0 else (b"" if self.exists(key) else None)
        except rados.ObjectNotFound:
            return None

    def exists(self, key):
        try:
            self.ioctx.stat(key)
            return True
        except rados.ObjectNotFound:
            return False

    def list(self, prefix: str = "") -> Iterator[str]:
        # the namespace holds this file only: listing it is listing the file
        return iter(sorted(o.key for o in self.ioctx.list_objects() if o.key.startswith(prefix)))

    def put(self, key, value):
        self.ioctx.write_full(key, bytes(value))

    def put_if_absent(self, key, value) -> bool:
        """An exclusive create and the write in one atomic operation."""
        with rados.WriteOpCtx() as op:
            op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
            op.write_full(bytes(value))
            try:
                self.ioctx.operate_write_op(op, key)
            except rados.ObjectExists:
                return False
        return True

    def put_if_version(self, key, value, version) -> Optional[str]:
        """Compare-and-swap on the object's version: the write applies only
        if nobody wrote the object since that version was read."""
        if version is None:
            self.put(key, value)
            return self.get_versioned(key)[1]
        with rados.WriteOpCtx() as op:
            op.assert_version(int(version))
            op.write_full(bytes(value))
            try:
                self.ioctx.operate_write_op(op, key)
            except (rados.OSError, rados.Error) as exc:  # -EOVERFLOW / -ERANGE: another writer won
                if getattr(exc, "errno", None) in (75, 34) or "version" in str(exc).lower():
                    return None
                raise
        return str(self.ioctx.get_last_version())

    def delete(self, key):
        try:
            self.ioctx.remove_object(key)
        except rados.ObjectNotFound:
            pass
