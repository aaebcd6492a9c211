"""A real single-node Ceph cluster for the tests: one monitor and one OSD
(memstore: no disk) from Debian's Ceph packages, bootstrapped by hand
without systemd, loopback only, its own config, keyrings and logs in a work
directory.  Ready means a RADOS write succeeded.  CEPH_CONF points clients
at it (never CEPH_KEYRING: it would override the daemons' keyrings)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from . import remember_keyrings
from .seaweedfs import free_ports

POOL = "h5pyvol"


class CephCluster:
    def __init__(self, workdir: Path, memstore_bytes: int = 1 << 30, objectstore: str = "memstore"):
        """``objectstore`` "bluestore" keeps the OSD's objects in a sparse
        file that survives a SIGKILL (memstore saves them only at a clean
        shutdown): the fault tests kill the OSD."""
        self.workdir = Path(workdir)
        self.memstore_bytes = memstore_bytes
        self.objectstore = objectstore
        self.conf = self.workdir / "ceph.conf"
        self.daemons: list[subprocess.Popen] = []
        self.started_in = 0.0
        self.rgw_port = 0

    def env(self) -> dict:
        return {"CEPH_CONF": str(self.conf)}

    def _run(self, *cmd, check=True, timeout=60) -> subprocess.CompletedProcess:
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                                cwd=self.workdir, env=self._env())
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CEPH_")}
        env["CEPH_CONF"] = str(self.conf)
        return env

    def _daemon(self, name: str, *cmd):
        log = open(self.workdir / "log" / f"{name}.stdio", "ab")
        self.daemons.append(subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
                                             cwd=self.workdir, env=self._env(), start_new_session=True))

    def start(self, timeout: float = 120) -> "CephCluster":
        begin = time.monotonic()
        w = self.workdir
        for d in ("run", "log", "mon/ceph-a", "osd/ceph-0"):
            (w / d).mkdir(parents=True, exist_ok=True)
        mon_port, mon_v1_port, self.rgw_port = free_ports(3)
        fsid = str(uuid.uuid4())
        self.conf.write_text(f"""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_port},v1:127.0.0.1:{mon_v1_port}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.1
mon mgr mkfs grace = 86400
run dir = {w}/run
admin socket = {w}/run/$name.asok
log file = {w}/log/$name.log
pid file = {w}/run/$name.pid
{self._objectstore_settings()}
osd data = {w}/osd/$cluster-$id
mon data = {w}/mon/$cluster-$id
osd max object name len = 1024
osd fast shutdown = false

[mon]
keyring = {w}/mon.keyring

[osd]
keyring = {w}/osd/$cluster-$id/keyring

[client]
keyring = {w}/admin.keyring

[client.rgw]
keyring = {w}/rgw.keyring
rgw frontends = beast endpoint=127.0.0.1:{self.rgw_port}
rgw thread pool size = 32
rgw data = {w}/rgw
""")
        self._run("ceph-authtool", "--create-keyring", w / "mon.keyring", "--gen-key", "-n", "mon.",
                  "--cap", "mon", "allow *")
        self._run("ceph-authtool", "--create-keyring", w / "admin.keyring", "--gen-key", "-n", "client.admin",
                  "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *")
        self._run("ceph-authtool", w / "mon.keyring", "--import-keyring", w / "admin.keyring")
        self._run("monmaptool", "--create", "--addv", "a", f"[v2:127.0.0.1:{mon_port},v1:127.0.0.1:{mon_v1_port}]",
                  "--fsid", fsid, w / "monmap")
        self._run("ceph-mon", "-c", self.conf, "--mkfs", "-i", "a", "--monmap", w / "monmap",
                  "--keyring", w / "mon.keyring")
        self._start_mon()
        osd_uuid = str(uuid.uuid4())
        osd_id = self._retry(lambda: self._run("ceph", "-c", self.conf, "osd", "new", osd_uuid, timeout=20),
                             begin + timeout).stdout.strip()
        self._run("ceph", "-c", self.conf, "auth", "get-or-create", f"osd.{osd_id}", "mon", "allow profile osd",
                  "mgr", "allow profile osd", "osd", "allow *", "-o", w / "osd" / f"ceph-{osd_id}" / "keyring")
        self._run("ceph-osd", "-c", self.conf, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        self.osd_id = osd_id
        self._start_osd()
        self._run("ceph", "-c", self.conf, "osd", "pool", "create", POOL, "8")
        self._run("ceph", "-c", self.conf, "osd", "pool", "application", "enable", POOL, "rados")
        self._retry(self._probe_write, begin + timeout)
        remember_keyrings(w)
        self.started_in = time.monotonic() - begin
        return self

    def _objectstore_settings(self) -> str:
        if self.objectstore == "memstore":
            return f"osd objectstore = memstore\nmemstore device bytes = {self.memstore_bytes}"
        return ("osd objectstore = bluestore\nbluestore block create = true\n"
                f"bluestore block size = {4 << 30}\nosd memory target = {1 << 30}\n"
                "bluestore fsck on mount = false")

    def _start_mon(self):
        self._daemon("mon.a", "ceph-mon", "-f", "-c", self.conf, "-i", "a")

    def _start_osd(self):
        self._daemon(f"osd.{self.osd_id}", "ceph-osd", "-f", "-c", self.conf, "-i", self.osd_id)
        self.osd = self.daemons[-1]

    def kill_osd(self, sig: int = signal.SIGKILL):
        """The OSD alone, the monitor keeps running (SIGKILL only with
        bluestore: memstore would lose every object)."""
        os.killpg(self.osd.pid, sig)
        self.osd.wait(timeout=60)
        self.daemons.remove(self.osd)

    def start_osd(self, timeout: float = 120) -> float:
        """Starts the killed OSD again; returns the seconds until a RADOS
        write succeeded."""
        begin = time.monotonic()
        self._start_osd()
        self._retry(self._probe_write, begin + timeout)
        return time.monotonic() - begin

    def restart(self, timeout: float = 120) -> float:
        """Starts the stopped monitor and OSD again on their data (memstore
        saves its objects at a clean shutdown: `osd fast shutdown = false`);
        returns the seconds until a RADOS write succeeded again."""
        begin = time.monotonic()
        self._start_mon()
        self._start_osd()
        self._retry(self._probe_write, begin + timeout)
        return time.monotonic() - begin

    def start_rgw(self, access_key: str, secret_key: str, timeout: float = 90) -> str:
        """Ceph's S3 gateway on 127.0.0.1 with one user; returns its endpoint
        once a signed write succeeded."""
        import io
        from minio import Minio

        begin = time.monotonic()
        w = self.workdir
        self._run("ceph", "-c", self.conf, "auth", "get-or-create", "client.rgw", "mon", "allow rw", "osd", "allow rwx",
                  "-o", w / "rgw.keyring")
        (w / "rgw").mkdir(exist_ok=True)
        self._daemon("rgw", "radosgw", "-f", "-c", self.conf, "-n", "client.rgw")
        self.rgw = self.daemons[-1]
        if not (w / "rgw.user").exists():  # a restart keeps its user
            self._run("radosgw-admin", "-c", self.conf, "user", "create", "--uid=h5pyvol", "--display-name=h5pyvol",
                      f"--access-key={access_key}", f"--secret={secret_key}", timeout=60)
            (w / "rgw.user").write_text(access_key)
        client = Minio(f"127.0.0.1:{self.rgw_port}", access_key=access_key, secret_key=secret_key, secure=False,
                       region="us-east-1")

        def probe():
            try:
                if not client.bucket_exists("h5pyvol-ready"):
                    client.make_bucket("h5pyvol-ready")
                client.put_object("h5pyvol-ready", "probe", io.BytesIO(b"ok"), 2)
            except Exception as exc:
                raise RuntimeError(str(exc)) from exc
        self._retry(probe, begin + timeout)
        remember_keyrings(w)
        self.rgw_started_in = time.monotonic() - begin
        return f"http://127.0.0.1:{self.rgw_port}"

    def _probe_write(self):
        self._run("rados", "-c", self.conf, "--rados-osd-op-timeout", "5", "-p", POOL, "put", "h5pyvol-ready",
                  self.conf, timeout=15)

    @staticmethod
    def _retry(call, deadline):
        last = None
        while time.monotonic() < deadline:
            try:
                return call()
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last = exc
                time.sleep(0.3)
        raise TimeoutError(f"the Ceph cluster did not come up: {last}")

    def stop(self):
        for proc in reversed(self.daemons):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.daemons:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.daemons.clear()


class CephS3:
    """Ceph's S3 gateway (radosgw) on a cluster of its own, with the same
    face as seaweedfs.SeaweedS3 so the S3 tests run against both."""

    def __init__(self, workdir: Path):
        from .seaweedfs import ACCESS_KEY, SECRET_KEY
        self.keys = (ACCESS_KEY, SECRET_KEY)
        self.cluster = CephCluster(workdir)
        self.endpoint = ""
        self.started_in = 0.0

    def start(self, timeout: float = 120) -> "CephS3":
        begin = time.monotonic()
        if not self.cluster.daemons:
            self.cluster.start(timeout)
        self.endpoint = self.cluster.start_rgw(*self.keys)
        self.started_in = time.monotonic() - begin
        return self

    def stop(self, sig: int = signal.SIGTERM):
        """Stops the gateway only (the cluster keeps the data)."""
        rgw = getattr(self.cluster, "rgw", None)
        if rgw is not None and rgw.poll() is None:
            os.killpg(rgw.pid, sig)
            rgw.wait(timeout=30)
            self.cluster.daemons.remove(rgw)

    def shutdown(self):
        self.cluster.stop()

    def env(self) -> dict:
        return {"AWS_ACCESS_KEY_ID": self.keys[0], "AWS_SECRET_ACCESS_KEY": self.keys[1],
                "AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_REGION": "us-east-1"}

    def client(self):
        from minio import Minio
        return Minio(self.endpoint.split("://", 1)[1], access_key=self.keys[0], secret_key=self.keys[1], secure=False,
                     region="us-east-1")
