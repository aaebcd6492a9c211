"""Workload 5, metadata-heavy: 10,000 groups each with one small attribute
created, then all visited (each attribute read): native HDF5 vs H5PyVOL in
memory, directory store, S3 and RADOS, and HSDS with h5pyd.  Figures are
milliseconds per group.  HSDS makes a tenth as many groups, once: 10,000
take it about 450 s here (an S3 client built per request), which alone
would exceed bench/run's 10 minutes.  S3 and RADOS make all 10,000, once
each: three runs on S3 alone took 3 of bench/run's 10 minutes."""
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
        remote = "://" in target
        results[name + (" (1 run)" if remote else "")] = repeated(spec, env_for(connector, **env),
                                                                  1 if remote else ctx.reps, clear)
    for r in results.values():
        r["create_ms"], r["visit_ms"] = r["create_s"] * 1e3 / groups, r["visit_s"] * 1e3 / groups
    results.update(hsds_results(ctx, groups // 10))
    return (figures("metadata", f"create {groups} groups + attribute, per group", results, "create_ms", "ms",
                    False, "native")
            + figures("metadata", f"visit {groups} groups + read attribute, per group", results, "visit_ms", "ms",
                      False, "native"))


def hsds_results(ctx: Context, groups: int) -> dict:
    import hsds_peer as hsds
    with hsds.HSDSServer(ctx.s3(), ctx.scratch / "hsds-metadata") as server:
        r = hsds.metadata(server, groups=groups)
    return {f"HSDS 1.0.2 + h5pyd 1.0.0 ({groups} groups, 1 run)":
            {"create_ms": r["create_s"] * 1e3 / groups, "visit_ms": r["visit_s"] * 1e3 / groups}}


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
