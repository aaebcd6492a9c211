"""Ceph RADOS pools as H5PyVOL store backends: ``rados://pool/path/file.h5``.

Each HDF5 file is a RADOS namespace (``path/file.h5``) in the pool, holding
the store connector's Zarr v3 keys as objects.  The cluster is found the
way Ceph's tools find it: ``CEPH_CONF`` (and the keyring that file names);
the client name comes from the connector info string (``client=``,
default ``admin``).  Needs the ``rados`` binding (Debian: python3-rados).
"""
from __future__ import annotations

import os
import threading

from .kv import RadosKV

_clusters: dict = {}
_lock = threading.Lock()


def _cluster(conffile: str, name: str):
    import rados
    with _lock:
        key = (conffile, name)
        if key not in _clusters:
            cluster = rados.Rados(conffile=conffile, name=name)
            cluster.connect(timeout=30)
            _clusters[key] = cluster
        return _clusters[key]


def backend(url: str, options: dict) -> RadosKV:
    pool, _, path = url[len("rados://"):].partition("/")
    if not pool or not path.strip("/"):
        raise ValueError(f"{url!r}: expected rados://pool/path/file.h5")
    conffile = options.get("ceph_conf") or os.environ.get("CEPH_CONF") or "/etc/ceph/ceph.conf"
    name = "client." + options.get("client", "admin")
    return RadosKV(_cluster(conffile, name), pool, path.strip("/"))


__all__ = ["RadosKV", "backend"]
