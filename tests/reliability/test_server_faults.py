"""Servers killed under a writer (issue 15's faults): S3 servers (SeaweedFS,
radosgw) and the Ceph OSD get SIGKILL at random moments of a write loop,
20 rounds each, on servers of their own.  Every call during an outage
fails with an HDF5 error naming it, within the backend's timeout; the
same writer goes on once the server is back; nothing flushed is lost."""
from __future__ import annotations

import signal

import pytest

from concurrency_scenarios import record
from conftest import vol_env
from server_faults import writer_goes_on_through_outages
from servers.ceph import POOL, CephCluster, CephS3
from servers.seaweedfs import SeaweedS3

pytestmark = pytest.mark.heavy

ROUNDS = 20
# RADOS: op_timeout=3; one HDF5 call may wait on a few operations in turn
RADOS_OP_TIMEOUT = 3


def _started(server, name):
    try:
        return server.start()
    except FileNotFoundError as exc:  # the server's binaries are missing: the one reason to skip
        pytest.skip(f"{name} cannot start here: {exc}")


def _s3_bound() -> float:
    """What one failing S3 call may take against a dead server: every
    attempt refused at once, the backoffs in between (kv.py), with slack
    for the interpreter; a server that accepts and never answers would
    take the read timeout instead."""
    from h5pyvol_minio import kv
    return kv.FIRST_BACKOFF * (2 ** (kv.ATTEMPTS - 1) - 1) + 10


# (name, server class, how its whole setup is torn down: radosgw's has a Ceph cluster under it)
S3_SERVERS = [("SeaweedFS", SeaweedS3, "stop"), ("radosgw", CephS3, "shutdown")]


@pytest.mark.parametrize("name, server_class, teardown", S3_SERVERS, ids=[s[0] for s in S3_SERVERS])
def test_s3_server_killed_under_a_writer(name, server_class, teardown, tmp_path_factory, tmp_path):
    server = _started(server_class(tmp_path_factory.mktemp(f"{name}-faults")), name)
    try:
        def start():
            server.start()
            return server.started_in
        figures = writer_goes_on_through_outages(
            "s3://faults/rows.h5", vol_env("H5PyVOL", **server.env()), tmp_path,
            lambda: server.stop(signal.SIGKILL), start, cause="S3 server", bound=_s3_bound(), rounds=ROUNDS)
    finally:
        getattr(server, teardown)()
    record(f"{name} killed (SIGKILL) and restarted", figures)


def test_ceph_osd_killed_under_a_writer(tmp_path_factory, tmp_path):
    cluster = _started(CephCluster(tmp_path_factory.mktemp("osd-faults"), objectstore="bluestore"), "Ceph")
    try:
        env = vol_env("H5PyVOL", **cluster.env(), H5PYVOL_RADOS_OP_TIMEOUT=str(RADOS_OP_TIMEOUT))
        figures = writer_goes_on_through_outages(
            f"rados://{POOL}/faults/rows.h5", env, tmp_path, cluster.kill_osd, cluster.start_osd,
            cause="Ceph cluster did not answer", bound=4 * RADOS_OP_TIMEOUT + 5, rounds=ROUNDS)
    finally:
        cluster.stop()
    record("Ceph OSD killed (SIGKILL) and restarted, monitor up", figures)
