"""Throughput of the store connector against its peers, measured in one run.

Writes and reads a float64 array (default 128 MiB) in chunks of 1 MiB with:
  - h5py through H5PyVOL's directory store (this project),
  - h5py on native HDF5 (a single file),
  - zarr-python 3 on a local directory,
and a one-element read/write loop for per-call latency.  Prints MB/s and
ratios.  Run with the venv's python and the connector on the plugin path:

    eval "$(.venv/bin/python -m h5pyvol env)"
    .venv/bin/python bench/store_bench.py [--mib 128]

Each variant runs in its own subprocess, so the connector setting applies
only to the H5PyVOL one.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

RUN = r"""
import json, sys, time, numpy as np
kind, path, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = mib * 1024 * 1024 // 8
rows = n // 1024
data = np.random.default_rng(0).random((rows, 1024))
chunks = (128, 1024)
t = {}
if kind in ("h5pyvol", "native"):
    import h5py
    start = time.perf_counter()
    with h5py.File(path, "w") as f:
        d = f.create_dataset("x", shape=data.shape, dtype="f8", chunks=chunks)
        d[...] = data
    t["write"] = time.perf_counter() - start
    start = time.perf_counter()
    with h5py.File(path, "r") as f:
        back = f["x"][...]
    t["read"] = time.perf_counter() - start
    with h5py.File(path, "r+") as f:
        d = f["x"]
        start = time.perf_counter()
        for i in range(200):
            d[i, 3] = i
        t["small_write"] = (time.perf_counter() - start) / 200
        start = time.perf_counter()
        for i in range(200):
            d[i, 3]
        t["small_read"] = (time.perf_counter() - start) / 200
else:
    import zarr
    start = time.perf_counter()
    z = zarr.create_array(path, shape=data.shape, chunks=chunks, dtype="f8", compressors=None, overwrite=True)
    z[...] = data
    t["write"] = time.perf_counter() - start
    start = time.perf_counter()
    back = zarr.open_array(path, mode="r")[...]
    t["read"] = time.perf_counter() - start
    z = zarr.open_array(path, mode="r+")
    start = time.perf_counter()
    for i in range(200):
        z[i, 3] = i
    t["small_write"] = (time.perf_counter() - start) / 200
    start = time.perf_counter()
    for i in range(200):
        z[i, 3]
    t["small_read"] = (time.perf_counter() - start) / 200
assert np.array_equal(back, data)
print(json.dumps(t))
"""


def run(kind: str, path: str, mib: int) -> dict:
    env = dict(os.environ)
    if kind != "h5pyvol":
        env.pop("HDF5_VOL_CONNECTOR", None)
    elif "HDF5_VOL_CONNECTOR" not in env:
        sys.exit("set the environment first: eval \"$(.venv/bin/python -m h5pyvol env)\"")
    out = subprocess.run([sys.executable, "-c", RUN, kind, path, str(mib)], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant, interleaved; the best of each is kept")
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for kind in ("h5pyvol", "native", "zarr"):
                t = run(kind, os.path.join(tmp, kind + ".h5"), args.mib)
                best = results.setdefault(kind, t)
                for key, value in t.items():
                    best[key] = min(best[key], value)
    print(f"{args.mib} MiB float64, chunks of 1 MiB, uncompressed, local disk, best of {args.repeat}")
    print(f"{'':10} {'write MB/s':>11} {'read MB/s':>10} {'1-elem write':>13} {'1-elem read':>12}")
    mb = args.mib * 1.048576
    for kind, t in results.items():
        print(f"{kind:10} {mb / t['write']:11.0f} {mb / t['read']:10.0f} "
              f"{t['small_write'] * 1e3:11.3f}ms {t['small_read'] * 1e3:10.3f}ms")
    ours = results["h5pyvol"]
    for peer in ("native", "zarr"):
        p = results[peer]
        print(f"h5pyvol / {peer}: write {p['write'] / ours['write']:.2f}x  read {p['read'] / ours['read']:.2f}x  "
              f"1-elem write {p['small_write'] / ours['small_write']:.2f}x  "
              f"1-elem read {p['small_read'] / ours['small_read']:.2f}x  (>1: h5pyvol faster)")


if __name__ == "__main__":
    main()
