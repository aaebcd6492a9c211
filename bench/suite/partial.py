"""Workload 3, chunked partial reads: a 1 GiB float64 dataset in 1 MiB
chunks, 1000 random 64 KiB hyperslabs (16 x 512, at random offsets, so most
span 2-4 chunks) each read and checked: native HDF5 vs H5PyVOL's directory
store and S3, and zarr-python and tensorstore reading the very same arrays
(the store is Zarr v3: they open what H5PyVOL wrote, byte for byte)."""
from __future__ import annotations

from common import Context, env_for
from runner import figures, job, repeated

COLS, CHUNKS, BLOCK = 8192, [256, 512], [16, 512]


def run(ctx: Context) -> list:
    rows = (2048 if ctx.quick else 16384)
    reads = 200 if ctx.quick else 1000
    nbytes = rows * COLS * 8
    shape = [rows, COLS]
    s3 = ctx.s3()
    s3.client().make_bucket("partial")
    s3_env = s3.env()
    where = ctx.scratch / "partial"
    where.mkdir()
    targets = {
        "native": ({"kind": "h5", "name": str(where / "native.h5")}, None),
        "H5PyVOL directory store": ({"kind": "h5", "name": str(where / "store.h5")}, "H5PyVOL"),
        "H5PyVOL S3": ({"kind": "h5", "name": "s3://partial/data.h5"}, "H5PyVOL"),
    }
    for target, connector in targets.values():
        job({"job": "create", "lib": "h5py", "target": target, "nbytes": nbytes, "shape": shape, "chunks": CHUNKS},
            env_for(connector, **s3_env))
    readers = {name: ("h5py", target, connector) for name, (target, connector) in targets.items()}
    readers["zarr-python, same directory store"] = ("zarr", {"kind": "dir", "path": str(where / "store.h5")}, None)
    readers["tensorstore, same directory store"] = ("tensorstore", {"kind": "dir", "path": str(where / "store.h5")}, None)
    readers["zarr-python, same S3 array"] = ("zarr", {"kind": "s3", "bucket": "partial", "prefix": "data.h5"}, None)
    readers["tensorstore, same S3 array"] = ("tensorstore", {"kind": "s3", "bucket": "partial", "prefix": "data.h5"}, None)
    results = {}
    for name, (lib, target, connector) in readers.items():
        spec = {"job": "partial", "lib": lib, "target": target, "shape": shape, "block": BLOCK, "reads": reads}
        results[name] = repeated(spec, env_for(connector, **s3_env), ctx.reps)
    case = f"{reads} random 64 KiB reads of {nbytes >> 20} MiB"
    return figures("partial", case, results, "per_read_ms", "ms", False, "native")


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
