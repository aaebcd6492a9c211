"""Connections to Ceph clusters, found the way Ceph's own tools find them,
and shared by every file of the process (one per configuration, client
name and timeout: a librados connection is a heavy thing)."""
from __future__ import annotations

import os
import threading

import rados

#: seconds an operation may wait for the cluster before it fails.  librados
#: waits forever by default (``rados_osd_op_timeout = 0``), which turns a
#: stopped cluster into an HDF5 call that never returns; with a limit the
#: call fails with an HDF5 error instead.  ``op_timeout=0`` restores Ceph's
#: wait-forever.
DEFAULT_OP_TIMEOUT = 60
CONNECT_TIMEOUT = 30

_clusters: dict = {}
_lock = threading.Lock()


def connect(conffile: str, name: str, op_timeout=None) -> rados.Rados:
    """The shared connection for ``conffile`` (CEPH_CONF) as ``name``
    (client.admin).  ``CEPH_ARGS`` is honoured as by the ceph tools; an
    operation timeout set there or in the configuration file is kept unless
    ``op_timeout`` says otherwise."""
    with _lock:
        # a forked child connects anew: librados' threads stayed in the parent
        key = (conffile, name, op_timeout, os.getpid())
        cluster = _clusters.get(key)
        if cluster is None:
            cluster = rados.Rados(conffile=conffile, name=name)
            cluster.conf_parse_env()
            for option in ("rados_osd_op_timeout", "rados_mon_op_timeout"):
                if op_timeout is not None:
                    cluster.conf_set(option, f"{op_timeout:g}")
                elif float(cluster.conf_get(option) or 0) == 0:
                    cluster.conf_set(option, str(DEFAULT_OP_TIMEOUT))
            try:
                _connect_in_fresh_thread(cluster)
            except rados.Error as exc:
                raise ConnectionError(f"cannot reach the Ceph cluster of {conffile} as {name} "
                                      f"within {CONNECT_TIMEOUT} s: {exc}") from exc
            _clusters[key] = cluster
        return cluster


def op_timeout(cluster: rados.Rados) -> float:
    return float(cluster.conf_get("rados_osd_op_timeout") or 0)


def _connect_in_fresh_thread(cluster: rados.Rados) -> None:
    """Connects from a thread of its own.  librados picks the client's
    nonce (the number that tells its connections from another client's on
    the same address) from a thread-local random engine; a forked child's
    main thread inherits the parent's engine, so every child of one parent
    would present the same nonce, and the cluster would keep dropping one
    child's sessions for another's until its operations time out.  A new
    thread seeds a new engine."""
    failure = []

    def connect():
        try:
            cluster.connect(timeout=CONNECT_TIMEOUT)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=connect, name="h5pyvol-rados-connect")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
