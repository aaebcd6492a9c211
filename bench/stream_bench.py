"""Streaming a dataset in blocks with worker processes (issue 13): not a
test, figures.

One 2-D float64 dataset of --mib MiB (random, chunks of 2 MiB) streamed
start to end, every block summed by the consumer, with 1, 2 and 4 worker
processes, each run in a fresh process and timed from opening the queue
to its end (worker start-up included: a user pays it too).  Contenders in
the same run:

- multitables 2.0.1 on PyTables 3.11.1 with numpy 1 and wrapt 1 (its own virtualenv, cached in
  ~/.cache/h5pyvol/bench/; PyTables' wheel has its own HDF5) reading the
  native .h5 file: the peer; ratios are to it at the same process count;
- h5pyvol.stream on the same native file, on a directory store and on
  SeaweedFS S3 (started here) holding copies of it;
- a plain h5py loop over the blocks in one process (``ds[a:b]``), natively
  and through the directory store.

All files are in the page cache (24 GiB of memory): this measures the
readers, not the disk.

    .venv/bin/python bench/stream_bench.py [--mib 1024] [--reps 3] [--no-s3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
H5PYVOL = str(Path(sys.executable).with_name("h5pyvol"))
COLUMNS = 128
CHUNK_ROWS = 2048  # 2 MiB chunks
PROCS = (1, 2, 4)
PEER = {"multitables": "2.0.1", "tables": "3.11.1"}  # and numpy 1.x, wrapt 1.x

STREAM = r"""
import sys, time
kind, name, procs = sys.argv[1], sys.argv[2], int(sys.argv[3])
nbytes, total = 0, 0.0
begin = time.perf_counter()
if kind == "loop":
    from h5pyvol import files
    with files.open_file(name, "r") as f:
        ds = f["/data"]
        step = ds.chunks[0]
        for start in range(0, ds.shape[0], step):
            block = ds[start:start + step]
            nbytes += block.nbytes
            total += float(block.sum())
else:
    if kind == "multitables":
        import multitables as mt
        streamer = mt.Streamer(name)
    else:
        from h5pyvol.stream import Streamer
        streamer = Streamer(name)
    queue = streamer.get_queue("/data", n_procs=procs)
    for guard in queue.iter():
        with guard as block:
            nbytes += block.nbytes
            total += float(block.sum())
    queue.close()
seconds = time.perf_counter() - begin
print(nbytes, seconds, repr(total))
"""


def peer_python() -> str:
    """multitables + PyTables in a virtualenv of their own, made once."""
    cache = Path(os.environ.get("H5PYVOL_CACHE", Path.home() / ".cache" / "h5pyvol"))
    venv = cache / "bench" / f"multitables-{PEER['multitables']}-tables-{PEER['tables']}-numpy1-wrapt1"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        print(f"installing multitables {PEER['multitables']} and tables {PEER['tables']} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"multitables=={PEER['multitables']}", f"tables=={PEER['tables']}",
                        # multitables 2.0.1 uses np.unicode_ (gone in numpy 2), and its released
                        # blocks raise inside wrapt 2's __wrapped__ setter
                        "numpy<2", "wrapt<2"], check=True)
        (venv / ".complete").touch()
    return str(python)


def stream_once(python: str, kind: str, name: str, procs: int, env: dict, cwd: Path) -> tuple[int, float, float]:
    result = subprocess.run([python, "-c", STREAM, kind, name, str(procs)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=1800)
    if result.returncode:
        raise SystemExit(f"{kind} on {name} with {procs} processes failed:\n{result.stderr}")
    nbytes, seconds, total = result.stdout.split()
    return int(nbytes), float(seconds), float(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true", help="skip SeaweedFS")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import h5py

    peer = peer_python()
    work = Path(tempfile.mkdtemp(prefix="h5pyvol-stream-bench-"))
    rows = args.mib * (1 << 20) // 8 // COLUMNS
    rows -= rows % CHUNK_ROWS  # whole blocks: every reader returns every row
    expected = 0.0
    with h5py.File(work / "data.h5", "w") as f:
        d = f.create_dataset("data", (rows, COLUMNS), dtype="f8", chunks=(CHUNK_ROWS, COLUMNS))
        rng = np.random.default_rng(1)
        step = 16 * CHUNK_ROWS
        for start in range(0, rows, step):
            slab = rng.random((min(step, rows - start), COLUMNS))
            d[start:start + step] = slab
    with h5py.File(work / "data.h5", "r") as f:
        expected_bytes = f["data"].size * 8
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "H5PYVOL_"))}
    server = None
    targets = [("native .h5", "data.h5"), ("directory store", "data.h5pyvol")]
    if not args.no_s3:
        from servers.seaweedfs import SeaweedS3
        server = SeaweedS3(work / "seaweedfs").start()
        env.update(server.env())
        targets.append(("S3 (SeaweedFS)", "s3://bench/data.h5"))
    try:
        for _, name in targets[1:]:
            subprocess.run([H5PYVOL, "copy", "-q", "data.h5", name], env=env, cwd=work, check=True)
        print(f"{expected_bytes / 1e6:.0f} MB float64, {rows} x {COLUMNS}, chunks of {CHUNK_ROWS} rows (2 MiB), "
              f"median of {args.reps} runs, {os.cpu_count()} cores; MB/s (ratio to multitables at the same procs)")
        contenders = [("multitables 2.0.1 (PyTables)", peer, "multitables", "data.h5", PROCS)]
        contenders += [(f"h5pyvol.stream, {label}", sys.executable, "stream", name, PROCS) for label, name in targets]
        contenders += [(f"h5py loop, {label}", sys.executable, "loop", name, (1,)) for label, name in targets[:2]]
        peer_rate = {}
        sums = []
        print(f"{'reader':44s}" + "".join(f"{f'{p} proc':>22s}" for p in PROCS))
        for label, python, kind, name, procs_list in contenders:
            cells = []
            for procs in PROCS:
                if procs not in procs_list:
                    cells.append(f"{'':>22s}")
                    continue
                rates = []
                for _ in range(args.reps):
                    nbytes, seconds, total = stream_once(python, kind, name, procs, env, work)
                    if nbytes != expected_bytes:
                        raise SystemExit(f"{label}: {nbytes} bytes streamed, {expected_bytes} expected")
                    sums.append(total)
                    rates.append(nbytes / seconds / 1e6)
                rate = statistics.median(rates)
                if kind == "multitables":
                    peer_rate[procs] = rate
                ratio = f" ({rate / peer_rate[procs]:.2f}x)" if procs in peer_rate else ""
                cells.append(f"{f'{rate:.0f}{ratio}':>22s}")
            print(f"{label:44s}" + "".join(cells), flush=True)
        if max(sums) - min(sums) > 1e-9 * abs(max(sums)):  # blocks summed in arrival order: last bits differ
            raise SystemExit(f"the readers disagree on the data: sums from {min(sums)!r} to {max(sums)!r}")
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
