"""Workload 5, metadata-heavy: 10,000 groups each with one small attribute
created, then all visited (each attribute read): native HDF5 vs H5PyVOL in
memory, directory store, S3 and RADOS, and HSDS with h5pyd."""
from __future__ import annotations

import shutil

from common import MEMORY, Context, env_for
from runner import figures, repeated


def run(ctx: Context) -> list:
    groups = 1000 if ctx.quick else 10_000
    where = ctx.shm / "metadata"
    s3, ceph = ctx.s3(), ctx.ceph()
    s3.client().make_bucket("metadata")
    from servers.ceph import POOL
    env = {**s3.env(), **ceph.env()}
    targets = {
        "native": (str(where / "native.h5"), None),
        "H5PyVOL in-memory": (str(where / "memory.h5"), MEMORY),
        "H5PyVOL directory store": (str(where / "store.h5"), "H5PyVOL"),
        "H5PyVOL s3://": ("s3://metadata/groups.h5", "H5PyVOL"),
        "H5PyVOL rados://": (f"rados://{POOL}/metadata/groups.h5", "H5PyVOL"),
    }
    results = {}

    def clear():
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)

    for name, (target, connector) in targets.items():
        spec = {"job": "metadata", "lib": "h5py", "target": {"kind": "h5", "name": target}, "groups": groups}
        results[name] = repeated(spec, env_for(connector, **env), ctx.reps, clear)
    results.update(hsds_results(ctx, groups))
    return (figures("metadata", f"create {groups} groups + attribute", results, "create_s", "s", False, "native")
            + figures("metadata", f"visit {groups} groups, read attributes", results, "visit_s", "s", False, "native"))


def hsds_results(ctx: Context, groups: int) -> dict:
    import hsds
    with hsds.HSDSServer(ctx.s3(), ctx.scratch / "hsds-metadata") as server:
        runs = [hsds.metadata(server, groups=groups) for _ in range(ctx.reps)]
    return {"HSDS 1.0.2 + h5pyd 1.0.0": {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}}


if __name__ == "__main__":
    from common import make_context
    ctx = make_context(quick=True)
    try:
        for figure in run(ctx):
            print(figure)
    finally:
        ctx.stop_servers()
