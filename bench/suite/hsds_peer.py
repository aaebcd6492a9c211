"""HSDS 1.0.2 + h5pyd 1.0.0 as a benchmark peer, serving from the same S3
server as H5PyVOL (SeaweedFS in the bench).

- ``hsds_python()``: their own virtualenv, made once in ~/.cache (h5pyd pulls
  the stock h5py wheel and its own numpy: they stay out of the project venv).
- ``HSDSServer``: HSDS in its standalone mode (one service node, ``dn_count``
  data nodes, no head node), every node on 127.0.0.1 (see hsds_launch.py),
  one user from a password file who is HSDS's admin (only admins may create
  top-level domains, which is where the workloads put theirs).
- ``bulk()`` and ``metadata()``: h5pyd workloads run in that venv, each
  printing one JSON line; both verify what they read back.

    .venv/bin/python bench/suite/hsds_peer.py        # SeaweedFS + HSDS, small sizes
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

VERSIONS = {"hsds": "1.0.2", "h5pyd": "1.0.0"}
HERE = Path(__file__).resolve().parent
USER, PASSWORD = "bench", "bench-password"


def hsds_python() -> str:
    """The python of a virtualenv with hsds, h5pyd and numpy, made once."""
    cache = Path(os.environ.get("H5PYVOL_CACHE", Path.home() / ".cache" / "h5pyvol"))
    venv = cache / "bench" / f"hsds-{VERSIONS['hsds']}-h5pyd-{VERSIONS['h5pyd']}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():  # written last: a broken install is redone
        print(f"installing hsds {VERSIONS['hsds']} and h5pyd {VERSIONS['h5pyd']} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"hsds=={VERSIONS['hsds']}", f"h5pyd=={VERSIONS['h5pyd']}", "numpy"], check=True)
        (venv / ".complete").touch()
    return str(python)


def _free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.add(s.getsockname()[1])
    return sorted(ports)


class HSDSServer:
    """HSDS on 127.0.0.1 storing in ``bucket`` of the S3 server ``s3``: one
    of tests/servers' (SeaweedS3, CephS3), whose ``.endpoint`` and ``.env()``
    (AWS_* keys and region) it is given and whose ``.client()`` makes the
    bucket if missing.  ``start()`` returns once every node answers GET
    /about as READY and ``ss`` shows each listening on 127.0.0.1 and nowhere
    else."""

    def __init__(self, s3, workdir: Path, bucket: str = "hsds", dn_count: int = 2):
        self.s3server = s3
        aws = s3.env()
        self.s3 = dict(endpoint=s3.endpoint, access_key=aws["AWS_ACCESS_KEY_ID"],
                       secret_key=aws["AWS_SECRET_ACCESS_KEY"], bucket=bucket,
                       region=aws.get("AWS_REGION", "us-east-1"))
        self.workdir = Path(workdir)
        self.dn_count = dn_count  # 2: one per core here
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen] = []
        self.log = self.workdir / "hsds.log"
        self.started_in = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def client_config(self) -> dict:
        """What an h5pyd client needs (passed to the workload scripts)."""
        return {"endpoint": self.endpoint, "username": USER, "password": PASSWORD, "bucket": self.s3["bucket"]}

    def _env(self) -> dict:
        # HSDS reads each config.yml key from the environment variable of its
        # upper-case name, before any override file: so the environment is
        # built from scratch, lest an inherited LOG_LEVEL, TIMEOUT or AWS_*
        # variable reconfigure it.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
            "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
            # no config.yml from the working directory, /config or /etc/hsds:
            # the packaged one, with these variables over it
            "CONFIG_DIR": str(self.workdir), "CONFIG_OVERRIDE_PATH": str(self.workdir / "no-override.yml"),
            "AWS_S3_GATEWAY": self.s3["endpoint"], "AWS_REGION": self.s3["region"],
            "AWS_ACCESS_KEY_ID": self.s3["access_key"], "AWS_SECRET_ACCESS_KEY": self.s3["secret_key"],
            "BUCKET_NAME": self.s3["bucket"],
            # botocore must not look for credentials or settings elsewhere
            # (instance metadata, ~/.aws): the keys above are the only ones
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            # PUT /?flush=1 answers 503 when the data nodes have not written
            # everything within flush_timeout (10 s): 10,000 new groups take minutes
            "FLUSH_TIMEOUT": "3600",
            "PASSWORD_FILE": str(self.workdir / "passwd.txt"), "ADMIN_USER": USER,
            "HSDS_ENDPOINT": self.endpoint,  # the base of the hrefs in its answers
            "LOG_LEVEL": "WARNING",  # INFO adds lines for each request (its REQ> line is always there)
        }
        if self.s3["endpoint"].startswith("http://"):
            # HSDS opens a new aiobotocore client for every S3 request, and
            # each loads the whole CA bundle into a new SSL context though
            # plain http never uses it: with one certificate a request costs
            # ~10 ms of CPU here instead of ~35, and its data nodes make two
            # per new object.
            env["AWS_CA_BUNDLE"] = str(self._one_certificate())
        return env

    def _one_certificate(self) -> Path:
        bundle = next(Path(hsds_python()).parents[1].glob("lib/python*/site-packages/certifi/cacert.pem"))
        text = bundle.read_text()
        end = "-----END CERTIFICATE-----"
        first = text[text.index("-----BEGIN CERTIFICATE-----"):text.index(end) + len(end)]
        path = self.workdir / "one-ca.pem"
        path.write_text(first + "\n")
        return path

    def start(self, timeout: float = 60) -> "HSDSServer":
        python = hsds_python()
        client = self.s3server.client()
        if not client.bucket_exists(self.s3["bucket"]):  # HSDS does not make it
            client.make_bucket(self.s3["bucket"])
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "passwd.txt").write_text(f"{USER}:{PASSWORD}\n")
        if not self.ports:  # a restart keeps its ports
            self.ports = _free_ports(1 + self.dn_count)
        # what HSDS's own launcher (hsds.hsds_app) passes its nodes, with
        # ports of our choosing: it would put the data nodes on 6101...
        # HSDS numbers data nodes by their URLs sorted as strings.
        dn_urls = sorted(f"http://127.0.0.1:{port}" for port in self.ports[1:])
        common = ["--standalone", f"--dn_urls={','.join(dn_urls)}", f"--hsds_endpoint={self.endpoint}"]
        nodes = [["--node_type=sn", f"--sn_url={self.endpoint}", "--log_prefix=sn "]]
        nodes += [["--node_type=dn", f"--node_number={i}", f"--log_prefix=dn{i + 1} "] for i in range(self.dn_count)]
        env, begin = self._env(), time.monotonic()
        with open(self.log, "ab") as log:
            for args in nodes:
                # -I: the launcher's directory, where hsds_peer.py is, must not
                # be on sys.path and hide the hsds package
                self.processes.append(subprocess.Popen(
                    [python, "-I", str(HERE / "hsds_launch.py"), *args, *common], stdout=log,
                    stderr=subprocess.STDOUT, env=env, cwd=self.workdir, start_new_session=True))
        try:
            self._wait_ready(begin + timeout, [self.endpoint, *dn_urls])
            self.check_loopback()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - begin
        return self

    def _wait_ready(self, deadline: float, urls: list[str]):
        auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        pending, last = list(urls), None
        while pending:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"an HSDS node exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"HSDS not ready ({last}):\n{self.tail()}")
            try:
                # credentials for the service node only: data nodes have no users
                headers = {"Authorization": auth} if pending[0] == self.endpoint else {}
                request = urllib.request.Request(pending[0] + "/about", headers=headers)
                with urllib.request.urlopen(request, timeout=5) as response:
                    about = json.load(response)
                if about["state"] != "READY":
                    raise RuntimeError(f"{pending[0]} is {about['state']}")
                if pending[0] == self.endpoint and not about.get("isadmin"):
                    raise RuntimeError(f"{USER} is not HSDS's admin: {about}")  # config not applied
                pending.pop(0)
            except (OSError, ValueError, RuntimeError) as exc:  # not up yet
                last = exc
                time.sleep(0.2)

    def check_loopback(self):
        """Raises unless each node listens on its port of 127.0.0.1 and on
        nothing else (``ss -ltnp``: listening TCP sockets with their pids)."""
        pids = {str(p.pid) for p in self.processes}
        lines = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout.splitlines()
        ours = [line.split() for line in lines if pids & set(_pids(line))]
        local = sorted(fields[3] for fields in ours)
        expected = sorted(f"127.0.0.1:{port}" for port in self.ports)
        if local != expected:
            raise RuntimeError(f"HSDS listens on {local}, expected only {expected}")
        return local

    def tail(self, lines: int = 40) -> str:
        """The log's last lines but for the REQ> line each request logs at any level."""
        try:
            return "\n".join([line for line in self.log.read_text(errors="replace").splitlines()
                              if " REQ> " not in line][-lines:])
        except OSError:
            return ""

    def stop(self):
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.processes = []

    def restart(self, timeout: float = 60):
        """Same ports and storage, empty caches."""
        self.stop()
        return self.start(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _pids(ss_line: str) -> list[str]:
    # users:(("python",pid=1234,fd=7),...)
    return [part.split(",")[0] for part in ss_line.split("pid=")[1:]]


# The workloads: run by the venv's python; argv[1] is a JSON config.
_PRELUDE = r"""
import json, sys, time, uuid
import numpy as np
import h5pyd

cfg = json.loads(sys.argv[1])
conn = {k: cfg[k] for k in ("endpoint", "username", "password", "bucket")}
conn["timeout"] = 3600  # per request (180 s by default): the flush of 10,000 groups takes longer
domain = cfg["domain"]

def server_flush(f):
    # h5pyd 1.0 keeps what it writes in memory until File.flush(); HSDS then
    # keeps it in its data nodes' caches and writes to S3 a second later.
    # PUT /?flush=1 returns once HSDS has written everything to S3.
    f.flush()
    rsp = f.id.db.plugin.http_conn.PUT("/", params={"flush": 1})
    if rsp.status_code not in (200, 204):
        raise IOError(f"flush failed: {rsp.status_code}")
"""

_BULK_WRITE = _PRELUDE + r"""
n, chunk = (cfg["mib"] << 20) // 8, (cfg["chunk_mib"] << 20) // 8
data = np.arange(n, dtype="f8")  # element i is i: a read checks itself
begin = time.perf_counter()
with h5pyd.File(domain, "w", **conn) as f:
    f.create_dataset("x", shape=(n,), dtype="f8", chunks=(chunk,))[...] = data
    server_flush(f)
print(json.dumps({"write_s": time.perf_counter() - begin}))
"""

_BULK_READ = _PRELUDE + r"""
n = (cfg["mib"] << 20) // 8
begin = time.perf_counter()
with h5pyd.File(domain, "r", **conn) as f:
    back = f["x"][...]
read_s = time.perf_counter() - begin
if back.shape != (n,) or not np.array_equal(back, np.arange(n, dtype="f8")):
    raise SystemExit(f"bulk read back wrong data: {back[:4]}... shape {back.shape}")
index = np.random.default_rng(1).integers(0, n, cfg["points"])
times = []
with h5pyd.File(domain, "r", **conn) as f:  # a new handle: nothing cached from the whole read
    x = f["x"]
    for i in index:
        t = time.perf_counter()
        value = x[int(i)]
        times.append(time.perf_counter() - t)
        if value != i:
            raise SystemExit(f"x[{i}] read {value}")
    begin = time.perf_counter()
    for i in range(cfg["loop"]):  # element by element from the start
        if x[i] != i:
            raise SystemExit(f"x[{i}] read {x[i]}")
    looped = time.perf_counter() - begin
# the mean, as for every other contender
print(json.dumps({"read_s": read_s, "one_element_read_ms": float(np.mean(times)) * 1e3,
                  "element_loop_ms": looped / max(cfg["loop"], 1) * 1e3}))
"""

_METADATA = _PRELUDE + r"""
groups = cfg["groups"]
begin = time.perf_counter()
with h5pyd.File(domain, "w", **conn) as f:
    for i in range(groups):
        f.create_group(f"g{i:05d}").attrs["i"] = i
        if i % 1000 == 999:
            # h5pyd sends a group's new links in one request at flush: 10,000
            # of them pass aiohttp's 1 MiB request limit in HSDS (413)
            f.flush()
    server_flush(f)
create_s = time.perf_counter() - begin
seen = {}
def visit(name, obj):
    if isinstance(obj, h5pyd.Group):
        seen[name] = int(obj.attrs["i"])
begin = time.perf_counter()
with h5pyd.File(domain, "r", **conn) as f:
    f.visititems(visit)
visit_s = time.perf_counter() - begin
if seen != {f"g{i:05d}": i for i in range(groups)}:
    raise SystemExit(f"visited {len(seen)} groups of {groups}, or read wrong attributes")
print(json.dumps({"create_s": create_s, "visit_s": visit_s}))
"""


def _run(server: HSDSServer, script: str, timeout: float = 1800, **cfg) -> dict:
    config = json.dumps({**server.client_config(), **cfg})
    # HOME and cwd in the server's workdir: h5pyd reads ~/.hscfg and ./.hscfg
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(server.workdir), "LANG": "C.UTF-8"}
    proc = subprocess.run([hsds_python(), "-c", script, config], env=env, cwd=server.workdir,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"h5pyd workload failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-4000:]}\nHSDS log:\n{server.tail()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _domain(name: str) -> str:
    return f"/{name}-{os.getpid()}-{time.time_ns()}.h5"  # new each run; top level: admin only


def bulk(server: HSDSServer, mib: int = 256, chunk_mib: int = 4, one_element: int = 200, loop: int = 500,
         cold: bool = True) -> dict:
    """Writes a float64 array of ``mib`` MiB in ``chunk_mib`` MiB chunks to
    a new domain (timed up to HSDS having written it to S3), reads it whole,
    then ``one_element`` single elements at random and the first ``loop``
    elements one by one (the mean time of one each).
    ``cold``: HSDS is restarted between write and reads, so that they come
    from S3, not from what the data nodes cached while writing."""
    domain = _domain("bulk")
    written = _run(server, _BULK_WRITE, domain=domain, mib=mib, chunk_mib=chunk_mib)
    if cold:
        server.restart()
    read = _run(server, _BULK_READ, domain=domain, mib=mib, points=one_element, loop=loop)
    return {"write_MBps": mib * 2**20 / 1e6 / written["write_s"],
            "read_MBps": mib * 2**20 / 1e6 / read["read_s"],
            "one_element_read_ms": read["one_element_read_ms"], "element_loop_ms": read["element_loop_ms"]}


def metadata(server: HSDSServer, groups: int = 10000) -> dict:
    """Creates ``groups`` groups with one small attribute each (timed up to
    HSDS having written them to S3), then visits them all in a new handle,
    reading each attribute."""
    return _run(server, _METADATA, domain=_domain("meta"), groups=groups)


if __name__ == "__main__":
    import shutil
    import tempfile

    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from servers.seaweedfs import SeaweedS3

    begin = time.monotonic()
    python = hsds_python()
    print(f"venv ready in {time.monotonic() - begin:.2f} s: {python}")
    work = Path(tempfile.mkdtemp(prefix="h5pyvol-hsds-"))
    s3 = SeaweedS3(work / "seaweedfs").start()
    try:
        with HSDSServer(s3, work / "hsds") as server:
            print(f"HSDS at {server.endpoint} ready in {server.started_in:.1f} s, listening on",
                  " ".join(server.check_loopback()))
            print("bulk 32 MiB:", json.dumps(bulk(server, mib=32)))
            print("metadata 1000 groups:", json.dumps(metadata(server, groups=1000)))
    finally:
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)
