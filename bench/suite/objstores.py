"""Workload 4, object stores: a 256 MiB float64 array in 4 MiB chunks
through H5PyVOL on SeaweedFS S3 and on Ceph RADOS, against
  (a) the raw clients moving the same bytes as the same number of objects
      with the same concurrency (8: the store's default workers): the minio
      SDK and obstore on S3, librados on RADOS;
  (b) zarr-python and tensorstore writing and reading the same array to the
      same bucket / pool (tensorstore has no RADOS driver);
  (c) HSDS with h5pyd serving the same array from the same S3 server.
The peer of each direction is the fastest raw client of the same run."""
from __future__ import annotations

from common import Context, Figure, env_for, median
from runner import repeated

CHUNK_BYTES = 4 << 20
THREADS = 8


def run(ctx: Context) -> list:
    nbytes = (64 if ctx.quick else 256) << 20
    one_element = 50 if ctx.quick else 200
    loop = 100 if ctx.quick else 500
    out = []
    s3 = ctx.s3()
    s3.client().make_bucket("objstores")
    bulk = {"job": "bulk", "nbytes": nbytes, "shape": [nbytes // 8], "chunks": [CHUNK_BYTES // 8],
            "one_element": one_element, "element_loop": loop}
    raw = {"job": "raw", "objects": nbytes // CHUNK_BYTES, "object_bytes": CHUNK_BYTES, "threads": THREADS}
    s3_env = env_for("H5PyVOL", **s3.env())
    results = {
        "raw minio SDK": repeated({**raw, "client": "minio", "bucket": "objstores", "prefix": "raw-minio"}, s3_env,
                                  ctx.reps),
        "raw obstore": repeated({**raw, "client": "obstore", "bucket": "objstores", "prefix": "raw-obstore"}, s3_env,
                                ctx.reps),
        "H5PyVOL s3://": repeated({**bulk, "lib": "h5py", "target": {"kind": "h5", "name": "s3://objstores/h5.h5"}},
                                  s3_env, ctx.reps),
        "zarr-python": repeated({**bulk, "lib": "zarr", "target": {"kind": "s3", "bucket": "objstores",
                                                                 "prefix": "zarr"}}, s3_env, ctx.reps),
        "tensorstore": repeated({**bulk, "lib": "tensorstore", "target": {"kind": "s3", "bucket": "objstores",
                                                                        "prefix": "ts"}}, s3_env, ctx.reps),
    }
    results.update(hsds_results(ctx, nbytes, one_element, loop))
    out += as_figures("S3 (SeaweedFS)", nbytes, results, raw_names=("raw minio SDK", "raw obstore"))

    ceph = ctx.ceph()
    rados_env = env_for("H5PyVOL", **ceph.env())
    from servers.ceph import POOL
    results = {
        "raw librados": repeated({**raw, "client": "librados", "pool": POOL, "prefix": "raw"}, rados_env, ctx.reps),
        "H5PyVOL rados://": repeated({**bulk, "lib": "h5py", "target": {"kind": "h5", "name": f"rados://{POOL}/h5.h5"}},
                                     rados_env, ctx.reps),
        "zarr-python": repeated({**bulk, "lib": "zarr", "target": {"kind": "rados", "url": f"rados://{POOL}/zarr"}},
                                rados_env, ctx.reps),
    }
    out += as_figures("RADOS (Ceph memstore)", nbytes, results, raw_names=("raw librados",))
    return out


def hsds_results(ctx: Context, nbytes: int, one_element: int, loop: int) -> dict:
    import hsds_peer as hsds
    with hsds.HSDSServer(ctx.s3(), ctx.scratch / "hsds") as server:
        # each run restarts HSDS between write and read (reads from S3, not its cache)
        runs = [hsds.bulk(server, mib=nbytes >> 20, chunk_mib=CHUNK_BYTES >> 20, one_element=one_element,
                          loop=loop)
                for _ in range(min(ctx.reps, 3))]
    return {"HSDS 1.0.2 + h5pyd 1.0.0": {k: median([r[k] for r in runs]) for k in runs[0]}}


def as_figures(backend: str, nbytes: int, results: dict, raw_names: tuple) -> list:
    out = []
    for direction in ("write", "read"):
        key = f"{direction}_MBps"
        peer = max(raw_names, key=lambda name: results[name][key])
        for name, r in results.items():
            out.append(Figure("objstores", f"{nbytes >> 20} MiB {direction}, {backend}", name, r[key], "MB/s", True,
                              peer=None if name == peer else peer, rss_mib=r.get("rss_mib")))
    peer = f"H5PyVOL {'s3' if 'S3' in backend else 'rados'}://"
    for name, r in results.items():
        if "one_element_read_ms" in r:
            out.append(Figure("objstores", f"one-element read, {backend}", name, r["one_element_read_ms"], "ms", False,
                              peer=None if name == peer else peer, rss_mib=r.get("rss_mib")))
        if "element_loop_ms" in r:
            out.append(Figure("objstores", f"element loop ds[i], {backend}", name, r["element_loop_ms"], "ms", False,
                              peer=None if name == peer else peer, rss_mib=r.get("rss_mib")))
    return out


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
