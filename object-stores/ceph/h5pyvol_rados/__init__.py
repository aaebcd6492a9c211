"""Ceph RADOS pools as H5PyVOL store backends: ``rados://pool/path/file.h5``.

Each HDF5 file is a RADOS namespace (``path/file.h5``) in the pool, holding
the store connector's Zarr v3 keys as objects (links and attributes as omap
entries of each node's zarr.json).  The cluster is found the way Ceph's
tools find it: ``CEPH_CONF`` (and the keyring that file names), ``CEPH_ARGS``.
Connector-info keys: ``client`` (default ``admin``), ``ceph_conf``,
``op_timeout`` (seconds, default 60; 0 waits forever), ``omap`` (0: write
the tables into zarr.json), ``aio`` (which chunk batches use librados aio:
``write`` (default: writes and deletes), ``all``, ``read``, ``none``).
Each of the last three also as an environment variable
``H5PYVOL_RADOS_<KEY>``.  Needs the ``rados`` binding (Debian: python3-rados).
``h5pyvol_rados.zarr_store.RadosStore`` lets zarr-python read and write the
same namespaces.
"""
from __future__ import annotations

import os

from h5pyvol.store.names import check_path

from .cluster import connect
from .kv import RadosKV


def parse_url(url: str) -> tuple[str, str]:
    """rados://pool/path/file.h5 -> (pool, namespace)."""
    pool, _, path = url[len("rados://"):].partition("/") if url.startswith("rados://") else ("", "", "")
    if not pool or not path.strip("/"):
        raise ValueError(f"{url!r}: expected rados://pool/path/file.h5")
    if "@" in pool:  # never echoed: what precedes the @ may be a secret
        raise ValueError("a rados:// URL carries no credentials: the keyring named by ceph.conf does")
    check_path(url, path)
    return pool, path.strip("/")


def backend(url: str, options: dict) -> RadosKV:
    pool, namespace = parse_url(url)
    conffile = options.get("ceph_conf") or os.environ.get("CEPH_CONF") or "/etc/ceph/ceph.conf"
    name = "client." + options.get("client", "admin")

    def option(key, default):
        return str(options.get(key, os.environ.get(f"H5PYVOL_RADOS_{key.upper()}", default))).lower()
    timeout = option("op_timeout", "")
    cluster = connect(conffile, name, float(timeout) if timeout else None)
    aio = AIO_CHOICES.get(option("aio", "write"))
    if aio is None:
        raise ValueError(f"aio={option('aio', '')!r}: expected one of {', '.join(AIO_CHOICES)}")
    return RadosKV(cluster, pool, namespace, omap_tables=option("omap", "1") not in ("0", "no", "false"), aio=aio)


#: the connector-info keys this backend reads (the store refuses others)
backend.options = ("client", "ceph_conf", "op_timeout", "omap", "aio")

AIO_CHOICES = {"write": ("write",), "all": ("read", "write"), "1": ("read", "write"), "read": ("read",),
               "none": (), "0": ()}


__all__ = ["RadosKV", "backend", "connect", "parse_url"]
