"""Many processes on one file, measured (issue 12): not a test, figures.

SWMR latency: a writer appends one row holding the time it flushes
  (h5py's SWMR API: swmr_mode, resize, flush), a reader in another process
  refreshes in a loop and notes, per row, how long after the flush it saw
  it.  Native HDF5 SWMR on an .h5 file is the peer, in the same run.
Writers: changes per second of 1 writer making N x M changes (open "r+",
  a group with an attribute, a dataset, an element of a shared dataset,
  close) against N writers making M each at once, on each backend.

Backends: a directory store, SeaweedFS S3 and Ceph RADOS (both started
here, as the tests do):

    .venv/bin/python bench/concurrency_bench.py [--seconds 10] [--writers 4] [--rounds 20] [--backends dir,s3,rados]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LATENCY_WRITER = r"""
import sys, time, h5py, numpy as np
url, seconds = sys.argv[1], float(sys.argv[2])
f = h5py.File(url, "w", libver="latest")
d = f.create_dataset("t", (0,), maxshape=(None,), chunks=(64,), dtype="f8")
f.swmr_mode = True
print("ready", flush=True)
end, n = time.time() + seconds, 0
while time.time() < end:
    d.resize((n + 1,))
    d[n] = time.time()    # the moment of this flush, give or take the write
    d.flush()
    n += 1
    time.sleep(0.01)
f.close()
print(n, flush=True)
"""

LATENCY_READER = r"""
import json, sys, time, h5py, numpy as np
url, seconds = sys.argv[1], float(sys.argv[2])
f = h5py.File(url, "r", swmr=True)
d = f["t"]
seen, latencies, end = 0, [], time.time() + seconds
while time.time() < end:
    d.refresh()
    n = d.shape[0]
    if n > seen:
        now = time.time()
        latencies.append(now - float(d[n - 1]))   # the newest row: how long since its flush
        seen = n
print(json.dumps(latencies))
"""

WRITERS = r"""
import json, multiprocessing as mp, sys, time, h5py, numpy as np
url, writers, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def writer(i, start):
    start.wait()
    for r in range(rounds):
        with h5py.File(url, "r+") as f:
            g = f[f"w{i}"].create_group(f"g{r}")
            g.attrs["round"] = r
            f[f"w{i}"].create_dataset(f"d{r}", data=np.arange(16))
            f["shared"][i * rounds + r] = r

if __name__ == "__main__":
    with h5py.File(url, "w") as f:
        f.create_dataset("shared", (writers * rounds,), chunks=(16,), dtype="i8")
        for i in range(writers):
            f.create_group(f"w{i}")
    start = mp.Barrier(writers)
    procs = [mp.Process(target=writer, args=(i, start)) for i in range(writers)]
    [p.start() for p in procs]
    t0 = time.time()
    [p.join() for p in procs]
    elapsed = time.time() - t0
    assert [p.exitcode for p in procs] == [0] * writers
    with h5py.File(url, "r") as f:
        assert all(len(f[f"w{i}"]) == 2 * rounds for i in range(writers))
    print(json.dumps({"seconds": elapsed, "changes": writers * rounds * 4}))
"""


def run(code: str, env: dict, *args) -> str:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True,
                         cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return out.stdout.strip().splitlines()[-1]


def latency(url: str, env: dict, seconds: float) -> dict:
    writer = subprocess.Popen([sys.executable, "-c", LATENCY_WRITER, url, str(seconds)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tempfile.gettempdir())
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    reader = run(LATENCY_READER, env, url, seconds)
    writer.communicate()
    values = sorted(json.loads(reader))
    pick = lambda q: 1000 * values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"flushes seen": len(values), "median ms": pick(0.5), "p95 ms": pick(0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", default="dir,s3,rados")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import h5pyvol
    from servers.ceph import POOL, CephCluster
    from servers.seaweedfs import SeaweedS3

    base = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "H5PYVOL_"))}
    base["HDF5_PLUGIN_PATH"] = h5pyvol.plugin_dir()
    vol = {**base, "HDF5_VOL_CONNECTOR": "H5PyVOL"}
    work = Path(tempfile.mkdtemp(prefix="h5pyvol-bench-"))
    servers, backends = [], {}
    for name in args.backends.split(","):
        if name == "dir":
            backends["directory"] = (lambda f: str(work / f), vol)
        elif name == "s3":
            s3 = SeaweedS3(work / "seaweedfs").start()
            servers.append(s3)
            backends["S3 (SeaweedFS)"] = (lambda f: f"s3://bench/{f}", {**vol, **s3.env()})
        elif name == "rados":
            ceph = CephCluster(work / "ceph")
            ceph.start()
            servers.append(ceph)
            backends["RADOS"] = (lambda f: f"rados://{POOL}/bench/{f}", {**vol, **ceph.env()})
    try:
        native = latency(str(work / "native.h5"), base, args.seconds)
        print(f"SWMR latency, writer flush -> reader sees the row ({args.seconds:g} s, a flush every 10 ms):")
        print(f"  {'native HDF5 SWMR (.h5)':28} {native['median ms']:8.1f} ms median {native['p95 ms']:8.1f} ms p95"
              f"  ({native['flushes seen']} flushes seen)")
        for label, (url, env) in backends.items():
            figures = latency(url("swmr.h5"), env, args.seconds)
            print(f"  {label:28} {figures['median ms']:8.1f} ms median {figures['p95 ms']:8.1f} ms p95"
                  f"  ({figures['flushes seen']} flushes seen; {figures['median ms'] / native['median ms']:.1f}x "
                  "native's median)")
        print(f"\nConcurrent writers ({args.writers} x {args.rounds} sessions, 4 changes each) against 1 writer "
              f"doing all {args.writers * args.rounds}:")
        for label, (url, env) in backends.items():
            one = json.loads(run(WRITERS, env, url("one.h5"), 1, args.writers * args.rounds))
            many = json.loads(run(WRITERS, env, url("many.h5"), args.writers, args.rounds))
            rate1, rate_n = one["changes"] / one["seconds"], many["changes"] / many["seconds"]
            print(f"  {label:28} 1 writer {rate1:8.1f} changes/s   {args.writers} writers {rate_n:8.1f} changes/s"
                  f"   ratio {rate_n / rate1:.2f}")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
