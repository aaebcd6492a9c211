"""The RADOS backend against its peers on one Ceph cluster, in one run.

Bulk: writes and reads a float64 array (default 64 MiB, chunks of 1 MiB)
  - through h5py and H5PyVOL on rados:// as configured by default
    (aio=write: chunk writes through librados aio, reads on the store's
    threads), with every chunk through aio (aio=all), and with none
    (aio=none: chunks on the store's 8 threads, synchronous librados),
  - through zarr-python 3 on the same pool (h5pyvol_rados.zarr_store),
  - and Ceph's own `rados bench` (1 MiB objects, 16 in flight): the ceiling.
  and 200 one-element reads (1-elem read: per read).
Metadata: a group of N links (default 10 000) gets one more link and a flush,
  50 times, with the link table as omap entries updated by difference (the
  default) and with it written whole into zarr.json (omap=0).
Listing: one file's keys from its key index and by walking the pool, with
  --filler objects (default 20 000) of other files in the pool.

Uses the cluster CEPH_CONF names (pool h5pyvol, or --pool), else starts a
single-node memstore cluster of its own (tests/servers/ceph.py):

    .venv/bin/python bench/rados_bench.py [--mib 64] [--links 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BULK = r"""
import json, sys, time, numpy as np
kind, url, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = mib * 1024 * 1024 // 8 // 1024
data = np.random.default_rng(0).random((rows, 1024))
chunks = (128, 1024)
t = {}
if kind == "zarr":
    import zarr
    from h5pyvol_rados.zarr_store import RadosStore
    start = time.perf_counter()
    root = zarr.open_group(RadosStore.from_url(url), mode="w")
    t["open"] = time.perf_counter() - start
    start = time.perf_counter()
    z = root.create_array("x", shape=data.shape, chunks=chunks, dtype="f8", compressors=None)
    z[...] = data
    t["write"] = time.perf_counter() - start
    start = time.perf_counter()
    z = zarr.open_group(RadosStore.from_url(url, read_only=True), mode="r")["x"]
    back = z[...]
    t["read"] = time.perf_counter() - start
    start = time.perf_counter()
    again = z[...]
    t["reread"] = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(200):
        z[i * 37, 3]
    t["element"] = (time.perf_counter() - start) / 200
else:
    import h5py
    start = time.perf_counter()
    f = h5py.File(url, "w")  # the first HDF5 call: the plugin imports its Python side, librados connects
    t["open"] = time.perf_counter() - start
    start = time.perf_counter()
    f.create_dataset("x", shape=data.shape, dtype="f8", chunks=chunks)[...] = data
    f.close()
    t["write"] = time.perf_counter() - start
    start = time.perf_counter()
    with h5py.File(url, "r") as f:
        back = f["x"][...]
        t["read"] = time.perf_counter() - start
        start = time.perf_counter()
        again = f["x"][...]
        t["reread"] = time.perf_counter() - start
        d = f["x"]
        start = time.perf_counter()
        for i in range(200):
            d[i * 37, 3]
        t["element"] = (time.perf_counter() - start) / 200
assert np.array_equal(again, data)
assert np.array_equal(back, data)
print(json.dumps(t))
"""

LINKS = r"""
import json, sys, time, h5py
url, n = sys.argv[1], int(sys.argv[2])
with h5py.File(url, "w") as f:
    f["x"] = [0]
    g = f.create_group("g")
    for i in range(n):
        g[f"link{i:06d}"] = h5py.SoftLink("/x")
with h5py.File(url, "r+") as f:
    g = f["g"]
    start = time.perf_counter()
    for i in range(50):
        g[f"more{i:03d}"] = h5py.SoftLink("/x")
        f.flush()
    per_flush = (time.perf_counter() - start) / 50
with h5py.File(url, "r") as f:
    assert len(f["g"]) == n + 50
# what each flush sent for the group: its object's bytes, plus (omap) the new entry
import os, rados
cluster = rados.Rados(conffile=os.environ["CEPH_CONF"], name="client.admin")
cluster.connect()
ioctx = cluster.open_ioctx(url.split("/")[2])
ioctx.set_namespace(url.split("/", 3)[3])
size = ioctx.stat("g/zarr.json")[0]
with rados.ReadOpCtx() as op:
    found, _ = ioctx.get_omap_vals(op, "l", "", 1)
    ioctx.operate_read_op(op, "g/zarr.json")
    entry = sum(len(k) + len(v) for k, v in found)
print(json.dumps({"flush": per_flush, "bytes": size + entry}))
"""


def run(code: str, env: dict, *args) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rados_bench(conf: str, pool: str, seconds: int) -> dict:
    """Ceph's own client writing then reading 1 MiB objects: MB/s."""
    base = ["rados", "-c", conf, "-p", pool, "bench", str(seconds)]
    figures = {}
    for mode, extra in (("write", ["write", "-b", "1048576", "-t", "16", "--no-cleanup"]), ("read", ["seq", "-t", "16"])):
        out = subprocess.run(base + extra, capture_output=True, text=True).stdout
        found = re.search(r"Bandwidth \(MB/sec\):\s+([\d.]+)", out)
        figures[mode] = float(found.group(1)) * 1.048576 if found else float("nan")  # rados prints MiB/s
    subprocess.run(["rados", "-c", conf, "-p", pool, "cleanup"], capture_output=True)
    return figures


def listing(conf: str, pool: str, namespace: str, filler: int) -> dict:
    """Listing one file's keys from its index and by walking the pool, with
    ``filler`` objects of other files in the pool: seconds each."""
    import time

    import rados
    from h5pyvol_rados.key_index import KeyIndex

    cluster = rados.Rados(conffile=conf, name="client.admin")
    cluster.connect()
    ioctx = cluster.open_ioctx(pool)
    ioctx.set_namespace("bench/filler")
    for start in range(0, filler, 256):
        pending = [ioctx.aio_write_full(f"o{i}", b"x") for i in range(start, min(start + 256, filler))]
        for completion in pending:
            completion.wait_for_complete()
    ioctx.set_namespace(namespace)
    index = KeyIndex(ioctx)
    figures = {}
    for name, call in (("index", lambda: index.list("")), ("walk", index._scan)):
        begin = time.perf_counter()
        keys = call()
        figures[name] = time.perf_counter() - begin
        figures["keys"] = len(keys)
    cluster.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--links", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant, interleaved; the best is kept")
    parser.add_argument("--pool", default="h5pyvol")
    parser.add_argument("--filler", type=int, default=20000, help="objects of other files in the pool for the listing")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    import h5pyvol
    from servers.ceph import CephCluster

    cluster = None
    conf = os.environ.get("CEPH_CONF")
    with tempfile.TemporaryDirectory() as tmp:
        if not conf:
            cluster = CephCluster(Path(tmp) / "ceph", memstore_bytes=8 << 30).start()
            conf = str(cluster.conf)
            print(f"started a single-node memstore cluster in {cluster.started_in:.1f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "H5PYVOL_"))}
        env.update(CEPH_CONF=conf, HDF5_PLUGIN_PATH=h5pyvol.plugin_dir(), HDF5_VOL_CONNECTOR="H5PyVOL")
        variants = {"default": {}, "all": {"H5PYVOL_RADOS_AIO": "all"}, "none": {"H5PYVOL_RADOS_AIO": "none"},
                    "zarr": {}}
        try:
            best: dict = {}
            for _ in range(args.repeat):
                for name, extra in variants.items():
                    kind = "zarr" if name == "zarr" else "h5py"
                    t = run(BULK, {**env, **extra}, kind, f"rados://{args.pool}/bench/{name}", args.mib)
                    kept = best.setdefault(name, t)
                    for key, value in t.items():
                        kept[key] = min(kept[key], value)
            ceiling = rados_bench(conf, args.pool, 3)
            links = {name: run(LINKS, {**env, "H5PYVOL_RADOS_OMAP": flag}, f"rados://{args.pool}/bench/links-{name}",
                               args.links)
                     for name, flag in (("omap", "1"), ("whole", "0"))}
            lists = listing(conf, args.pool, "bench/default", args.filler)
        finally:
            if cluster is not None:
                cluster.stop()
    mb = args.mib * 1.048576
    print(f"\n{args.mib} MiB float64 in 1 MiB chunks, uncompressed, one pool, best of {args.repeat}")
    print(f"{'':28} {'create file':>11} {'write MB/s':>10} {'read MB/s':>10} {'2nd read MB/s':>14} {'1-elem read':>12}")
    labels = {"default": "h5py + H5PyVOL (aio=write)", "all": "h5py + H5PyVOL, aio=all", "none": "h5py + H5PyVOL, aio=none", "zarr": "zarr-python 3 (RadosStore)"}
    for name, t in best.items():
        print(f"{labels[name]:28} {t['open'] * 1e3:9.0f}ms {mb / t['write']:10.0f} {mb / t['read']:10.0f} "
              f"{mb / t['reread']:14.0f} {t['element'] * 1e3:10.3f}ms")
    print(f"{'rados bench (1 MiB, 16 ops)':28} {'':11} {ceiling['write']:10.0f} {ceiling['read']:10.0f}")
    for first, second, label in (("all", "none", "aio=all / aio=none"), ("default", "zarr", "H5PyVOL / zarr-python")):
        first, second = best[first], best[second]
        print(f"{label}: " + "  ".join(f"{key} {second[key] / first[key]:.2f}x" for key in ("open", "write", "read", "reread", "element"))
              + "  (>1: the first faster)")
    omap, whole = links["omap"], links["whole"]
    print(f"\none link added + H5Fflush in a group of {args.links} links, link table as")
    print(f"  omap entries:    {omap['flush'] * 1e3:6.1f} ms, {omap['bytes'] / 1e3:8.1f} kB sent for the group")
    print(f"  whole zarr.json: {whole['flush'] * 1e3:6.1f} ms, {whole['bytes'] / 1e3:8.1f} kB sent for the group")
    print(f"  omap / whole: time {whole['flush'] / omap['flush']:.2f}x, bytes {whole['bytes'] / omap['bytes']:.0f}x"
          "  (>1: omap better)")
    print(f"\nlisting a file's {lists['keys']} keys with {args.filler} objects of other files in the pool: "
          f"key index {lists['index'] * 1e3:.1f} ms, walking the pool {lists['walk'] * 1e3:.1f} ms "
          f"({lists['walk'] / lists['index']:.0f}x)")


if __name__ == "__main__":
    main()
