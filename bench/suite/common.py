"""What every workload of ``bench/run`` shares: the figure record, the
context (repetitions, scratch space, servers started on demand) and the
way a contender runs (a subprocess printing one JSON object)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # tests/servers: SeaweedFS and Ceph on 127.0.0.1

from h5pyvol import plugin_dir  # noqa: E402
from h5pyvol.paths import hdf5_prefix  # noqa: E402


@dataclass
class Figure:
    """One measured number.  ``peer`` names the contender of the same
    workload and case this one is compared with (None: it is the peer)."""
    workload: str
    case: str
    contender: str
    value: float
    unit: str  # "us/call", "MB/s", "ms", "s", "ops/s"
    higher_is_better: bool
    peer: str | None = None
    rss_mib: float | None = None
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    quick: bool
    scratch: Path  # on disk
    shm: Path  # on /dev/shm
    reps: int
    servers: dict = field(default_factory=dict)

    def s3(self):
        """A SeaweedFS S3 server for this run (started on first use)."""
        if "s3" not in self.servers:
            from servers.seaweedfs import SeaweedS3
            self.servers["s3"] = SeaweedS3(self.scratch / "seaweedfs").start()
        return self.servers["s3"]

    def ceph(self):
        """A single-node Ceph cluster (mon + memstore OSD) for this run."""
        if "ceph" not in self.servers:
            from servers.ceph import CephCluster
            self.servers["ceph"] = CephCluster(self.scratch / "ceph", memstore_bytes=3 << 30).start()
        return self.servers["ceph"]

    def stop_servers(self):
        for server in self.servers.values():
            (getattr(server, "shutdown", None) or server.stop)()
        self.servers.clear()

    def close(self):
        """Servers stopped, scratch space on disk and on /dev/shm removed."""
        import shutil
        self.stop_servers()
        shutil.rmtree(self.scratch, ignore_errors=True)
        shutil.rmtree(self.shm, ignore_errors=True)


def make_context(quick: bool) -> Context:
    scratch = Path(tempfile.mkdtemp(prefix="h5pyvol-bench-", dir=os.environ.get("H5PYVOL_BENCH_DIR")))
    shm = Path(tempfile.mkdtemp(prefix="h5pyvol-bench-", dir="/dev/shm"))
    return Context(quick=quick, scratch=scratch, shm=shm, reps=3)


MEMORY = "H5PyVOL connector=memory"  # the in-memory connector (h5pyvol/connectors/memory.py), not the store's mem://


def run_alone(run) -> None:
    """One workload's ``run`` on its own, quick sizes, its table printed:
    ``python bench/suite/<workload>.py``."""
    from report import table
    ctx = make_context(quick=True)
    try:
        print(table(run(ctx)))
    finally:
        ctx.close()


def env_for(connector: str | None, **extra) -> dict:
    """The environment of a contender: H5PyVOL on the plugin path when
    ``connector`` is given, native HDF5 (the same library) when None."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH"))}
    env["HDF5_PLUGIN_PATH"] = plugin_dir()
    env["LD_LIBRARY_PATH"] = os.path.join(hdf5_prefix(), "lib")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "connectors"), str(ROOT / "bench" / "suite")])
    if connector is not None:
        env["HDF5_VOL_CONNECTOR"] = connector
    env.update(extra)
    return env


def run_json(cmd: list, env: dict, cwd: Path | None = None, timeout: float = 900) -> dict:
    """Runs one contender; its last stdout line is a JSON object (with its
    own peak RSS as ``rss_mib`` where it reports one)."""
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def python_json(code: str, env: dict, *args, python: str = sys.executable, cwd: Path | None = None,
                timeout: float = 900) -> dict:
    """Runs ``code`` in a fresh interpreter (so the connector setting and
    imports apply to it alone); it must print one JSON object last."""
    return run_json([python, "-c", code, *args], env, cwd, timeout)


def median(values) -> float:
    return statistics.median(values)
