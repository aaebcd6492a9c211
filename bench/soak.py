"""An hour of mixed load (issue 15's soak): not a test, figures for README.

One h5py process per backend runs random operations against files it keeps
a numpy model of: datasets created (integer, float, gzip or not, chunked
every which way), written and read in random hyperslabs, resized, deleted;
attributes set and read; groups and soft links made and removed; files
closed and opened again.  Every read is compared with the model.  Every
minute another process opens each file read-only and compares checksums
of everything with the model's, written by the worker after a flush.  The
figures: operations, wrong values (must be 0), failed calls (must be 0),
RSS at the first and the last minute and its peak, the heap in use as
malloc counts it (mallinfo2, all arenas) against RSS, and RSS after
malloc_trim(0) at the end (RSS that grows while the heap in use stays flat
is freed memory malloc keeps, not a leak), open HDF5 ids and file
descriptors at the end against the start.

    .venv/bin/python bench/soak.py [--minutes 60] [--backends dir,s3,memory]

The S3 backend runs against SeaweedFS started here, as the tests do.
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

WORKER = r"""
import ctypes, json, os, random, sys, time, h5py, numpy as np
urls, seconds, report = sys.argv[1].split("|"), float(sys.argv[2]), sys.argv[3]
rng = random.Random(1515)
nprng = np.random.default_rng(1515)
model = {url: {} for url in urls}           # url -> dataset name -> numpy array
attrs = {url: {} for url in urls}           # url -> attribute name -> value
files = {url: h5py.File(url, "w") for url in urls}
counts, wrong, failed = {}, 0, []
rss, model_kib = [], []  # RSS and the model's own size, once a minute
serial = iter(range(10**9))

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS"))

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
heap_kib = []  # bytes malloc has handed out and not had back (all arenas), once a minute

def in_use_kib():
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024

def open_ids():
    return h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL)

def box(shape):
    lo = [rng.randrange(n) if n else 0 for n in shape]
    hi = [rng.randint(l + 1, n) if n else 0 for l, n in zip(lo, shape)]
    return tuple(slice(l, h) for l, h in zip(lo, hi))

def op_create(url, f):
    if len(model[url]) >= 12:
        return op_delete(url, f)
    name = f"d{next(serial)}"
    ndim = rng.randint(1, 3)
    shape = tuple(rng.randint(1, 64) for _ in range(ndim))
    dtype = rng.choice(["i4", "f8", "u1", "i8"])
    chunks = tuple(rng.randint(1, n) for n in shape)
    data = (nprng.random(shape) * 100).astype(dtype)
    f.create_dataset(name, data=data, chunks=chunks, maxshape=(None,) + shape[1:],
                     compression=rng.choice([None, "gzip"]))
    model[url][name] = data

def op_delete(url, f):
    if model[url]:
        name = rng.choice(sorted(model[url]))
        del f[name]
        del model[url][name]

def op_write(url, f):
    if not model[url]:
        return op_create(url, f)
    name = rng.choice(sorted(model[url]))
    data = model[url][name]
    sel = box(data.shape)
    values = (nprng.random(data[sel].shape) * 100).astype(data.dtype)
    f[name][sel] = values
    data[sel] = values

def op_read(url, f):
    global wrong
    if not model[url]:
        return op_create(url, f)
    name = rng.choice(sorted(model[url]))
    data = model[url][name]
    sel = box(data.shape)
    if not np.array_equal(f[name][sel], data[sel]):
        wrong += 1

def op_resize(url, f):
    if not model[url]:
        return op_create(url, f)
    name = rng.choice(sorted(model[url]))
    data = model[url][name]
    rows = max(1, data.shape[0] + rng.randint(-8, 16))
    f[name].resize(rows, axis=0)
    grown = np.zeros((rows,) + data.shape[1:], data.dtype)
    keep = min(rows, data.shape[0])
    grown[:keep] = data[:keep]
    model[url][name] = grown

def op_attr(url, f):
    global wrong
    key = f"a{rng.randrange(20)}"
    if rng.random() < 0.5 or key not in attrs[url]:
        value = rng.randrange(10**9)
        f.attrs[key] = value
        attrs[url][key] = value
    elif int(f.attrs[key]) != attrs[url][key]:
        wrong += 1

def op_links(url, f):
    global wrong
    name = f"g{rng.randrange(30)}"
    if name in f:
        del f[name]
        del f[name + "-soft"]
    else:
        f.create_group(name).attrs["made"] = 1
        f[name + "-soft"] = h5py.SoftLink("/" + name)
        if f[name + "-soft"].attrs["made"] != 1:
            wrong += 1

def op_reopen(url, f):
    f.close()
    files[url] = h5py.File(url, "r+")

OPS = [(op_write, 30), (op_read, 30), (op_create, 8), (op_resize, 8), (op_attr, 10), (op_links, 8),
       (op_reopen, 2), (op_delete, 4)]
NAMES, WEIGHTS = zip(*OPS)

def checksums():
    return {url: {name: float(np.asarray(data, "f8").sum()) for name, data in model[url].items()} for url in urls}

ids_at_start, fds_at_start = open_ids(), len(os.listdir("/proc/self/fd"))
start = last_minute = time.monotonic()
rss.append(rss_kib())
heap_kib.append(in_use_kib())
while time.monotonic() - start < seconds:
    url = rng.choice(urls)
    op = rng.choices(NAMES, WEIGHTS)[0]
    try:
        op(url, files[url])
        counts[op.__name__[3:]] = counts.get(op.__name__[3:], 0) + 1
    except Exception as exc:
        failed.append(f"{op.__name__} on {url}: {type(exc).__name__}: {exc}"[:300])
    if time.monotonic() - last_minute >= 60:
        last_minute = time.monotonic()
        rss.append(rss_kib())
        heap_kib.append(in_use_kib())
        model_kib.append(sum(a.nbytes for m in model.values() for a in m.values()) // 1024)
        for f in files.values():
            f.flush()
        print(json.dumps(checksums()), flush=True)   # the checker compares the files with this
        sys.stdin.readline()                           # and says when it is done
for f in files.values():
    f.close()
rss_before_trim = rss_kib()
libc.malloc_trim(0)  # what RSS holds beyond the heap in use is memory malloc keeps after free()
print(json.dumps({"operations": counts, "wrong values": wrong, "failed calls": len(failed), "failures": failed[:5],
                  "rss_kib": rss, "heap_kib": heap_kib, "rss_trimmed_kib": [rss_before_trim, rss_kib()],
                  "model_kib": model_kib or [0], "open ids": [ids_at_start, open_ids()],
                  "fds": [fds_at_start, len(os.listdir("/proc/self/fd"))]}), flush=True)
"""

CHECKER = r"""
import json, sys, h5py, numpy as np
expected = json.loads(sys.argv[1])
bad = []
for url, datasets in expected.items():
    with h5py.File(url, "r") as f:
        for name, total in datasets.items():
            if float(np.asarray(f[name][...], "f8").sum()) != total:
                bad.append(f"{url}/{name}")
        if sorted(k for k in f if k.startswith("d")) != sorted(datasets):
            bad.append(f"{url}: datasets differ")
print(json.dumps(bad))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--backends", default="dir,s3,memory")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import h5pyvol
    from h5pyvol.paths import hdf5_prefix
    from servers.seaweedfs import SeaweedS3

    base = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "H5PYVOL_"))}
    base["HDF5_PLUGIN_PATH"] = h5pyvol.plugin_dir()
    base["LD_LIBRARY_PATH"] = os.path.join(hdf5_prefix(), "lib")
    vol = {**base, "HDF5_VOL_CONNECTOR": "H5PyVOL"}
    work = Path(tempfile.mkdtemp(prefix="h5pyvol-soak-"))
    runs, servers = {}, []
    for name in args.backends.split(","):
        if name == "dir":
            runs["directory store"] = ([str(work / f"soak{i}.h5") for i in range(3)], vol, True)
        elif name == "s3":
            s3 = SeaweedS3(work / "seaweedfs").start()
            servers.append(s3)
            runs["S3 (SeaweedFS)"] = ([f"s3://soak/soak{i}.h5" for i in range(3)], {**vol, **s3.env()}, True)
        elif name == "memory":
            # in memory nothing outlives the process: no checker, the reads check
            runs["in-memory connector"] = ([f"soak{i}.h5" for i in range(3)],
                                           {**vol, "HDF5_VOL_CONNECTOR": "H5PyVOL connector=memory"}, False)
    workers = {}
    try:
        for label, (urls, env, _) in runs.items():
            workers[label] = subprocess.Popen(
                [sys.executable, "-c", WORKER, "|".join(urls), str(args.minutes * 60), str(work / "report")],
                env=env, cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        checks = {label: [0, 0] for label in runs}  # checks run, files found wrong
        results = {}
        while len(results) < len(workers):
            for label, proc in workers.items():
                if label in results:
                    continue
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(f"{label}: the worker ended with {proc.wait()}")
                message = json.loads(line)
                if "operations" in message:
                    results[label] = message
                    continue
                urls, env, durable = runs[label]
                if durable:
                    done = subprocess.run([sys.executable, "-c", CHECKER, json.dumps(message)], env=env, cwd=work,
                                          capture_output=True, text=True)
                    bad = json.loads(done.stdout) if done.returncode == 0 else [done.stderr[-500:]]
                    checks[label][0] += 1
                    checks[label][1] += len(bad)
                    if bad:
                        print(f"[soak] {label}: the checker found {bad[:3]}", flush=True)
                proc.stdin.write("\n")
                proc.stdin.flush()
        print(f"Soak: {args.minutes:g} minutes of mixed h5py load per backend, all at once on this machine")
        for label, r in results.items():
            total = sum(r["operations"].values())
            rss = r["rss_kib"]
            print(f"\n{label}: {total} operations ({total / (args.minutes * 60):.0f}/s): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(r["operations"].items())))
            print(f"  wrong values {r['wrong values']}, failed calls {r['failed calls']} {r['failures']}")
            print(f"  checks by another process: {checks[label][0]}, files found wrong: {checks[label][1]}")
            print(f"  RSS: {rss[0] / 1024:.1f} MiB at the start, {rss[1 if len(rss) > 1 else 0] / 1024:.1f} after a "
                  f"minute, {rss[-1] / 1024:.1f} at the end, peak {max(rss) / 1024:.1f}")
            heap = r["heap_kib"]
            print(f"  heap in use (malloc's own count): {heap[1 if len(heap) > 1 else 0] / 1024:.1f} MiB after a "
                  f"minute, {heap[-1] / 1024:.1f} at the end; RSS after the files closed "
                  f"{r['rss_trimmed_kib'][0] / 1024:.1f} MiB, after malloc_trim(0) {r['rss_trimmed_kib'][1] / 1024:.1f}")
            print(f"  the model's arrays (part of that RSS): {r['model_kib'][0] / 1024:.1f} MiB after a minute, "
                  f"{r['model_kib'][-1] / 1024:.1f} at the end")
            print(f"  HDF5 open ids start/end: {r['open ids']}, file descriptors start/end: {r['fds']}")
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
