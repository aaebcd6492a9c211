"""``h5pyvol copy`` between a native file and S3, measured (issue 13): not a
test, figures.

A native file with one dataset of --mib MiB of random float64 in 1 MiB
chunks (nothing compresses) is copied to a SeaweedFS bucket started here
and back, with 1 and with --jobs worker processes, by the installed
``h5pyvol`` command.  The peer, in the same run: the raw S3 client (minio)
putting and getting the same number of 1 MiB objects with 8 threads, which
is what moving those bytes costs without HDF5, the store or Python's
per-chunk work.

    .venv/bin/python bench/copy_bench.py [--mib 256] [--jobs 4]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
H5PYVOL = str(Path(sys.executable).with_name("h5pyvol"))
CHUNK = 1 << 20


def timed_copy(src: str, dst: str, env: dict, jobs: int, cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([H5PYVOL, "copy", "-q", "-j", str(jobs), src, dst], env=env, cwd=cwd,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"h5pyvol copy {src} {dst} failed: {result.stderr}")
    return time.perf_counter() - started


def raw_client(server, count: int) -> tuple[float, float]:
    """Seconds to PUT and to GET ``count`` 1 MiB objects, 8 at a time."""
    import io
    client = server.client()
    bucket = "raw"
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    payload = np.random.default_rng(2).random(CHUNK // 8).tobytes()

    def put(i):
        client.put_object(bucket, f"obj/{i}", io.BytesIO(payload), len(payload))

    def get(i):
        response = client.get_object(bucket, f"obj/{i}")
        try:
            return len(response.read())
        finally:
            response.close()
            response.release_conn()

    with ThreadPoolExecutor(8) as pool:
        started = time.perf_counter()
        list(pool.map(put, range(count)))
        put_s = time.perf_counter() - started
        started = time.perf_counter()
        assert sum(pool.map(get, range(count))) == count * len(payload)
        get_s = time.perf_counter() - started
    return put_s, get_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import h5py
    from servers.seaweedfs import SeaweedS3

    work = Path(tempfile.mkdtemp(prefix="h5pyvol-copy-bench-"))
    rows = args.mib * CHUNK // 8 // 1024
    with h5py.File(work / "src.h5", "w") as f:
        d = f.create_dataset("data", (rows, 1024), dtype="f8", chunks=(CHUNK // 8 // 1024, 1024))
        rng = np.random.default_rng(1)
        step = 16 * (CHUNK // 8 // 1024)
        for start in range(0, rows, step):
            d[start:start + step] = rng.random((min(step, rows - start), 1024))
    mb = args.mib * CHUNK / 1e6
    server = SeaweedS3(work / "seaweedfs").start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "H5PYVOL_"))}
    env.update(server.env())
    try:
        print(f"{args.mib} MiB of float64 in {args.mib} chunks of 1 MiB, SeaweedFS on 127.0.0.1, "
              f"{os.cpu_count()} cores")
        put_s, get_s = raw_client(server, args.mib)
        print(f"  raw S3 client (minio, 8 threads): PUT {mb / put_s:7.1f} MB/s   GET {mb / get_s:7.1f} MB/s")
        for jobs in sorted({1, args.jobs}):
            up = timed_copy("src.h5", f"s3://bench/copy-{jobs}.h5", env, jobs, work)
            down = timed_copy(f"s3://bench/copy-{jobs}.h5", f"back-{jobs}.h5", env, jobs, work)
            print(f"  h5pyvol copy -j {jobs}: native -> S3 {mb / up:7.1f} MB/s ({(mb / up) / (mb / put_s):.2f}x raw PUT)"
                  f"   S3 -> native {mb / down:7.1f} MB/s ({(mb / down) / (mb / get_s):.2f}x raw GET)")
            with h5py.File(work / "src.h5") as a, h5py.File(work / f"back-{jobs}.h5") as b:
                assert np.array_equal(a["data"][::97], b["data"][::97]), "the copy differs"
    finally:
        server.stop()


if __name__ == "__main__":
    main()
