"""One contender's measurement, run in its own process by the workloads:

    python contenders.py '{"job": "bulk", "lib": "h5py", "target": {...}, ...}'

prints one JSON object (seconds, derived rates, peak RSS).  Every job
verifies what it reads: the array's values are its own flat index (as
float64), so any element can be checked without keeping a copy.

Targets say where the bytes go, the same way for every library:
  {"kind": "h5", "name": "data.h5" | "mem://x" | "s3://b/f.h5" | "rados://p/f.h5"}  (h5py; native or H5PyVOL
      as the environment's HDF5_VOL_CONNECTOR says)
  {"kind": "dir", "path": "/dev/shm/x"}           (zarr-python, tensorstore)
  {"kind": "s3", "bucket": "b", "prefix": "p"}     (zarr-python through obstore, tensorstore's s3 driver)
  {"kind": "rados", "url": "rados://pool/ns"}      (zarr-python through h5pyvol_rados.zarr_store)
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np


def pattern(start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype="f8")


def peak_rss_mib() -> float:
    """This process's own peak (VmHWM): getrusage's maxrss of an exec'd
    child starts at its parent's peak."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


# ------------------------------------------------------------------ opening arrays

def h5_array(target: dict, mode: str, shape=None, chunks=None):
    import h5py
    f = h5py.File(target["name"], mode)
    if mode == "r":
        return f, f["x"]
    layout = {} if chunks is None else {"chunks": tuple(chunks)}
    return f, f.create_dataset("x", shape=tuple(shape), dtype="f8", **layout)


def zarr_store(target: dict):
    import zarr.storage
    if target["kind"] == "dir":
        return zarr.storage.LocalStore(target["path"])
    if target["kind"] == "s3":
        from obstore.store import S3Store
        s3 = S3Store(target["bucket"], prefix=target["prefix"], endpoint=os.environ["AWS_ENDPOINT_URL_S3"],
                     access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                     secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1",
                     client_options={"allow_http": True})
        return zarr.storage.ObjectStore(s3)
    if target["kind"] == "rados":
        from h5pyvol_rados.zarr_store import RadosStore
        return RadosStore.from_url(target["url"])
    raise ValueError(f"zarr-python has no target {target['kind']}")


def zarr_array(target: dict, mode: str, shape=None, chunks=None, path="x"):
    import zarr
    store = zarr_store(target)
    if mode == "r":
        return None, zarr.open_array(store, path=path, mode="r")
    return None, zarr.create_array(store, name=path, shape=tuple(shape), chunks=tuple(chunks), dtype="f8",
                                   compressors=None, filters=None, overwrite=True)


def ts_kvstore(target: dict) -> dict:
    if target["kind"] == "dir":
        return {"driver": "file", "path": target["path"].rstrip("/") + "/"}
    if target["kind"] == "s3":
        return {"driver": "s3", "bucket": target["bucket"], "path": target["prefix"].rstrip("/") + "/",
                "endpoint": os.environ["AWS_ENDPOINT_URL_S3"], "aws_region": "us-east-1",
                "aws_credentials": {"type": "environment"}}
    raise ValueError(f"tensorstore has no target {target['kind']}")


class TsArray:
    """tensorstore behind numpy-style indexing, so jobs treat every library alike."""

    def __init__(self, store):
        self.store = store
        self.shape = tuple(store.shape)

    def __getitem__(self, index):
        return self.store[index].read().result()

    def __setitem__(self, index, value):
        self.store[index].write(value).result()


def ts_array(target: dict, mode: str, shape=None, chunks=None, path="x"):
    import tensorstore as ts
    spec = {"driver": "zarr3", "kvstore": ts_kvstore(target), "path": path}
    if mode == "r":
        return None, TsArray(ts.open(spec, read=True).result())
    spec["metadata"] = {"shape": list(shape), "data_type": "float64",
                        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
                        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
    return None, TsArray(ts.open(spec, create=True, delete_existing=True).result())


OPENERS = {"h5py": h5_array, "zarr": zarr_array, "tensorstore": ts_array}


def open_array(job: dict, mode: str, shape=None, chunks=None):
    return OPENERS[job["lib"]](job["target"], mode, shape, chunks)


def close(handle):
    if handle is not None:
        handle.close()


# ------------------------------------------------------------------ jobs

def warm_up(job: dict) -> None:
    """Imports the library and, for HDF5, opens one small file of the same
    kind first: loading the connector is workload 6's cost, not this one's."""
    if job["lib"] == "h5py":
        import h5py
        name = job["target"]["name"]
        warm = name.rsplit("/", 1)[0] + "/warm-up.h5" if "/" in name.split("://", 1)[-1] else "warm-up.h5"
        if name.startswith("mem://"):
            warm = "mem://warm-up.h5"
        with h5py.File(warm, "w") as f:
            f["w"] = 1
    elif job["lib"] == "zarr":
        import zarr  # noqa: F401
        import zarr.storage  # noqa: F401
    else:
        import tensorstore  # noqa: F401


def prefault(nbytes: int) -> None:
    """Makes this process's next large allocations come from memory it has
    touched already.  A fresh 256 MiB buffer's first-touch page faults cost
    this VM anywhere from 0.05 to 0.9 s (native HDF5 read the same file at
    282 and at 4322 MB/s in one run), which would swamp what is measured.
    glibc is told to keep freed memory (no mmap for large blocks, no trim),
    then four times the size is touched and freed (the data, the library's
    copy, the read's output and its scratch fit in it).  Every contender
    does this."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 40)
    scratch = np.ones(4 * nbytes, dtype=np.uint8)
    del scratch


def bulk(job: dict) -> dict:
    """One write of the whole array in one call, then one read (page cache
    warm, memory pre-faulted)."""
    warm_up(job)
    prefault(job["nbytes"])
    n = job["nbytes"] // 8
    data = pattern(0, n).reshape(job["shape"])
    out = {}
    begin = time.perf_counter()
    handle, array = open_array(job, "w", data.shape, job.get("chunks"))
    array[...] = data
    close(handle)
    out["write_s"] = time.perf_counter() - begin
    begin = time.perf_counter()
    handle, array = open_array(job, "r")
    back = array[...]
    close(handle)
    out["read_s"] = time.perf_counter() - begin
    if not np.array_equal(back, data):
        raise AssertionError(f"{job['lib']} read back different values")
    out["write_MBps"] = job["nbytes"] / out["write_s"] / 1e6
    out["read_MBps"] = job["nbytes"] / out["read_s"] / 1e6
    out.update(one_element_reads(job, array_shape=data.shape) if job.get("one_element") else {})
    return out


def one_element_reads(job: dict, array_shape) -> dict:
    rng = np.random.default_rng(1)
    flat = int(np.prod(array_shape))
    handle, array = open_array(job, "r")
    picks = rng.integers(0, flat, job["one_element"])
    begin = time.perf_counter()
    for p in picks:
        index = np.unravel_index(int(p), array_shape)
        if float(array[index]) != float(p):
            raise AssertionError(f"{job['lib']} element {index} is wrong")
    elapsed = time.perf_counter() - begin
    # then element by element from the start, as a loop over ds[i] does
    loop = job.get("element_loop", 0)
    begin = time.perf_counter()
    for i in range(loop):
        index = np.unravel_index(i, array_shape)
        if float(array[index]) != float(i):
            raise AssertionError(f"{job['lib']} element {index} is wrong")
    looped = time.perf_counter() - begin
    close(handle)
    out = {"one_element_read_ms": elapsed / len(picks) * 1e3}
    if loop:
        out["element_loop_ms"] = looped / loop * 1e3
    return out


def create(job: dict) -> dict:
    """Writes the array the partial-read job reads (not timed by it)."""
    n = job["nbytes"] // 8
    rows = n // job["shape"][1]
    handle, array = open_array(job, "w", job["shape"], job["chunks"])
    step = max(1, (64 << 20) // (job["shape"][1] * 8))
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        array[start:stop] = pattern(start * job["shape"][1], stop * job["shape"][1]).reshape(stop - start, -1)
    close(handle)
    return {}


def partial(job: dict) -> dict:
    """``reads`` random hyperslabs of ``block`` rows x cols, each checked."""
    rows, cols = job["shape"]
    block_rows, block_cols = job["block"]
    rng = np.random.default_rng(2)
    warm_up(job)
    handle, array = open_array(job, "r")
    begin = time.perf_counter()
    for _ in range(job["reads"]):
        r = int(rng.integers(0, rows - block_rows))
        c = int(rng.integers(0, cols - block_cols))
        got = array[r:r + block_rows, c:c + block_cols]
        expect = (np.arange(r, r + block_rows)[:, None] * cols + np.arange(c, c + block_cols)[None, :]).astype("f8")
        if not np.array_equal(got, expect):
            raise AssertionError(f"{job['lib']} hyperslab at {r},{c} is wrong")
    elapsed = time.perf_counter() - begin
    close(handle)
    nbytes = job["reads"] * block_rows * block_cols * 8
    return {"per_read_ms": elapsed / job["reads"] * 1e3, "MBps": nbytes / elapsed / 1e6}


def metadata(job: dict) -> dict:
    """``groups`` groups with one small attribute each, then a visit reading them all."""
    import h5py
    name = job["target"]["name"]
    out = {}
    begin = time.perf_counter()
    with h5py.File(name, "w") as f:
        for i in range(job["groups"]):
            f.create_group(f"g{i:05d}").attrs["i"] = i
    out["create_s"] = time.perf_counter() - begin
    seen = []
    begin = time.perf_counter()
    with h5py.File(name, "r") as f:
        f.visititems(lambda path, obj: seen.append(int(obj.attrs["i"])))
    out["visit_s"] = time.perf_counter() - begin
    if sorted(seen) != list(range(job["groups"])):
        raise AssertionError(f"visit saw {len(seen)} groups, not {job['groups']}")
    return out


def raw(job: dict) -> dict:
    """The client alone: ``objects`` objects of ``object_bytes`` put, then
    got, ``threads`` at a time: what moving these bytes costs without HDF5."""
    from concurrent.futures import ThreadPoolExecutor
    count, size = job["objects"], job["object_bytes"]
    payloads = [pattern(i * size // 8, (i + 1) * size // 8).tobytes() for i in range(count)]
    put, get = RAW_CLIENTS[job["client"]](job)
    out = {}
    with ThreadPoolExecutor(job["threads"]) as pool:
        begin = time.perf_counter()
        list(pool.map(put, range(count), payloads))
        out["write_s"] = time.perf_counter() - begin
        begin = time.perf_counter()
        back = list(pool.map(get, range(count)))
        out["read_s"] = time.perf_counter() - begin
    if back != payloads:
        raise AssertionError(f"{job['client']} read back different bytes")
    out["write_MBps"] = count * size / out["write_s"] / 1e6
    out["read_MBps"] = count * size / out["read_s"] / 1e6
    return out


def minio_client(job):
    from minio import Minio
    endpoint = os.environ["AWS_ENDPOINT_URL_S3"].split("://", 1)[1]
    client = Minio(endpoint, access_key=os.environ["AWS_ACCESS_KEY_ID"],
                   secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], secure=False, region="us-east-1")
    import io

    def put(i, data):
        client.put_object(job["bucket"], f"{job['prefix']}/{i}", io.BytesIO(data), len(data))

    def get(i):
        response = client.get_object(job["bucket"], f"{job['prefix']}/{i}")
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()
    return put, get


def obstore_client(job):
    import obstore
    from obstore.store import S3Store
    store = S3Store(job["bucket"], endpoint=os.environ["AWS_ENDPOINT_URL_S3"],
                    access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                    secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1",
                    client_options={"allow_http": True})

    def put(i, data):
        obstore.put(store, f"{job['prefix']}/{i}", data)

    def get(i):
        return obstore.get(store, f"{job['prefix']}/{i}").bytes().to_bytes()
    return put, get


def librados_client(job):
    from h5pyvol_rados import cluster
    conn = cluster.connect(os.environ["CEPH_CONF"], "client.admin")
    ioctx = conn.open_ioctx(job["pool"])
    ioctx.set_namespace(job["prefix"])

    def put(i, data):
        ioctx.write_full(str(i), data)

    def get(i):
        return ioctx.read(str(i), job["object_bytes"])
    return put, get


RAW_CLIENTS = {"minio": minio_client, "obstore": obstore_client, "librados": librados_client}

JOBS = {"raw": raw, "bulk": bulk, "create": create, "partial": partial, "metadata": metadata}

if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    result = JOBS[job["job"]](job)
    result["rss_mib"] = peak_rss_mib()
    print(json.dumps(result))
