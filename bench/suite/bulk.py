"""Workload 2, bulk: a 256 MiB float64 array written in one call and read
in one call: native HDF5 vs H5PyVOL (in memory, directory store) vs
zarr-python and tensorstore writing the same array (the same 1 MiB chunks
the store gives a contiguous dataset) to the same kind of directory, on
/dev/shm and on disk.  Page cache warm; nothing is compressed."""
from __future__ import annotations

import shutil

from common import MEMORY, Context, env_for
from runner import figures, repeated

CHUNK = 1 << 17  # elements: the store's ~1 MiB chunks of a contiguous float64 dataset


def run(ctx: Context) -> list:
    nbytes = (32 if ctx.quick else 256) << 20
    shape = [nbytes // 8]
    out = []
    for medium, base in (("/dev/shm", ctx.shm), ("disk", ctx.scratch)):
        where = base / "bulk"
        results = {}

        def clear():
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir(parents=True)

        def measure(name, lib, target, connector):
            spec = {"job": "bulk", "lib": lib, "target": target, "nbytes": nbytes, "shape": shape, "chunks":
                    None if lib == "h5py" else [CHUNK]}
            results[name] = repeated(spec, env_for(connector), ctx.reps, clear, cwd=where.parent)

        measure("native", "h5py", {"kind": "h5", "name": str(where / "native.h5")}, None)
        if medium == "/dev/shm":
            measure("H5PyVOL in-memory", "h5py", {"kind": "h5", "name": str(where / "memory.h5")}, MEMORY)
        measure("H5PyVOL directory store", "h5py", {"kind": "h5", "name": str(where / "store.h5")}, "H5PyVOL")
        measure("zarr-python", "zarr", {"kind": "dir", "path": str(where / "zarr")}, None)
        measure("tensorstore", "tensorstore", {"kind": "dir", "path": str(where / "ts")}, None)
        for direction in ("write", "read"):
            out += figures("bulk", f"{nbytes >> 20} MiB {direction}, {medium}", results, f"{direction}_MBps",
                           "MB/s", True, "native")
        shutil.rmtree(where, ignore_errors=True)
    return out


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
