"""Workload 1, bridge overhead: a C program (bench/c/bridge_bench.c) times
small HDF5 calls in loops of 100k (10k with --quick): one-element hyperslab
H5Dwrite and H5Dread, H5Aread, H5Oget_info3, H5Lexists, and a tenth as many
H5Fopen+H5Fclose, natively (file on /dev/shm) vs through H5PyVOL with the
in-memory connector and with the directory store (on /dev/shm; a tenth as
many calls, each about 0.5 ms).  The
program checks every value it reads back and fails on a wrong one."""
from __future__ import annotations

import os
import shutil
import subprocess

from common import MEMORY, ROOT, Context, Figure, env_for, hdf5_prefix, median, run_json

CALLS = ["H5Dwrite", "H5Dread", "H5Aread", "H5Oget_info3", "H5Lexists", "H5Fopen+H5Fclose"]


def build(ctx: Context, name: str):
    """Compiles bench/c/<name>.c into the run's scratch (nothing cached in the
    repository), with an rpath so it finds the same HDF5 without LD_LIBRARY_PATH."""
    exe = ctx.scratch / name
    if not exe.exists():
        lib = os.path.join(hdf5_prefix(), "lib")
        subprocess.run([os.path.join(hdf5_prefix(), "bin", "h5cc"), "-O2", "-o", str(exe),
                        str(ROOT / "bench" / "c" / f"{name}.c"), f"-Wl,-rpath,{lib}"],
                       check=True, capture_output=True, text=True)
    return exe


def run(ctx: Context) -> list[Figure]:
    exe = build(ctx, "bridge_bench")
    n = 10_000 if ctx.quick else 100_000
    where = ctx.shm / "bridge"
    contenders = {  # name: (file name, connector, calls)
        "native": (where / "native.h5", None, n),
        # the reference MemoryVOL (h5pyvol/connectors/memory.py): the bridge and
        # little else; the file name is only a key in the process's memory
        "H5PyVOL in-memory": ("bridge.h5", MEMORY, n),
        # a tenth as many: each one-element write rewrites an 8 KiB chunk file
        # (~0.5 ms), and the run must fit bench/run's 10 minutes
        "H5PyVOL directory store": (where / "store.h5", "H5PyVOL", n // 10),
    }
    runs = {name: [] for name in contenders}
    for _ in range(ctx.reps):
        for name, (target, connector, calls) in contenders.items():  # interleaved: background load hits all alike
            shutil.rmtree(where, ignore_errors=True)  # each run creates its file afresh
            where.mkdir(parents=True)
            # cwd on /dev/shm: nothing of a run (even a stray relative file) lands on disk
            runs[name].append(run_json([exe, target, calls], env_for(connector), cwd=where))
    results = {name: {key: median([r[key] for r in rs]) for key in [*CALLS, "rss_mib"]} for name, rs in runs.items()}
    shutil.rmtree(where, ignore_errors=True)
    figures = []
    for call in CALLS:
        for name, r in results.items():
            calls = contenders[name][2] // (10 if call == "H5Fopen+H5Fclose" else 1)
            figures.append(Figure("bridge", call, name, r[call], "us/call", False,
                                  peer=None if name == "native" else "native",
                                  rss_mib=r["rss_mib"] if r["rss_mib"] > 0 else None,  # <= 0: no /proc
                                  note=f"{calls} calls, median of {ctx.reps} runs"))
    return figures


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
