"""The store connector (the default): HDF5 files as Zarr v3 hierarchies in
a directory.  Files outlive the process, zarr-python reads them and writes
what H5PyVOL reads, a killed writer loses nothing it flushed."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import zarr

import store_scenarios as scenario
from conftest import vol_env
from h5pyvol.selection import Selection
from h5pyvol.store.chunks import ChunkCodec, ChunkedArray
from h5pyvol.store.kv import DirectoryKV, MemoryKV
from h5pyvol.store.names import decode, encode


def test_c_program_writes_h5py_reads_in_another_process(run_c, run_py, tmp_path):
    work = tmp_path / "shared"
    work.mkdir()
    written = run_c("examples/c_app.c", "shared.h5", cwd=work)
    assert written.returncode == 0, written.output
    assert (work / "shared.h5" / "zarr.json").exists()
    code = ('import h5py\nf = h5py.File("shared.h5", "r")\n'
            'print(f["grid"][3].tolist(), f["sensors/temperature"][5])\n')
    read = run_py(code, cwd=work)
    assert read.returncode == 0, read.output
    assert "[300, 301, 302, 303, 304, 305] 17.75" in read.stdout


def test_zarr_python_reads_what_h5py_wrote(run_py, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    code = r"""
import h5py, numpy as np
with h5py.File("out.h5", "w") as f:
    d = f.create_dataset("grp/temps", data=np.linspace(0, 1, 50).reshape(5, 10), chunks=(2, 5))
    d.attrs["units"] = "K"
    d.attrs["scale"] = 0.5
    f.create_dataset("ints", data=np.arange(7, dtype=">i2"))
    f.create_dataset("scalar", data=42)
    f.attrs["title"] = "run 1"
"""
    result = run_py(code, cwd=work)
    assert result.returncode == 0, result.output
    g = zarr.open_group(str(work / "out.h5"), mode="r")
    temps = g["grp/temps"]
    assert temps.shape == (5, 10) and temps.chunks == (2, 5)
    np.testing.assert_allclose(temps[...], np.linspace(0, 1, 50).reshape(5, 10))
    assert temps.attrs["units"] == "K" and temps.attrs["scale"] == 0.5
    assert g["ints"][...].tolist() == list(range(7))
    assert g["scalar"][()] == 42
    assert g.attrs["title"] == "run 1"


def test_h5py_reads_what_zarr_python_wrote(run_py, tmp_path):
    root = zarr.open_group(str(tmp_path / "vol" / "fromzarr.h5"), mode="w")
    a = root.create_array("sub/values", shape=(6, 4), chunks=(4, 3), dtype="f4", fill_value=-1)
    a[:5] = np.arange(20, dtype="f4").reshape(5, 4)
    a.attrs["units"] = "mm"
    root.attrs["count"] = 3
    code = r"""
import h5py
with h5py.File("fromzarr.h5", "r") as f:
    d = f["sub/values"]
    print(d.shape, d.dtype, d[4].tolist(), d[5].tolist(), d.attrs["units"], f.attrs["count"])
"""
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "(6, 4) float32 [16.0, 17.0, 18.0, 19.0] [-1.0, -1.0, -1.0, -1.0] mm 3" in result.stdout


KILLED_WRITER = r"""
import h5py, numpy as np, sys
f = h5py.File("crash.h5", "w")
f.create_dataset("flushed", data=np.arange(1000))
f.create_dataset("growing", shape=(0,), maxshape=(None,), chunks=(100,), dtype="i8")
f.flush()
print("flushed", flush=True)
n = 0
while True:  # keeps writing until killed
    d = f["growing"]
    d.resize((n + 100,))
    d[n:] = np.arange(n, n + 100)
    f["flushed"][n % 1000] = -1
    n += 100
"""


def test_killed_writer_leaves_flushed_data_intact(run_py, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    work = tmp_path / "vol"
    work.mkdir()
    proc = subprocess.Popen([sys.executable, str(script)], env=vol_env(), cwd=work, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "flushed"
    time.sleep(1.5)  # mid-write
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    code = r"""
import h5py, numpy as np
with h5py.File("crash.h5", "r") as f:
    flushed = f["flushed"][...]
    print("flushed-ok", bool(((flushed == np.arange(1000)) | (flushed == -1)).all()), f["growing"].shape)
"""
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "flushed-ok True" in result.stdout


def test_link_names_map_to_safe_keys(run_py, tmp_path):
    code = r"""
import h5py
names = ["a b", "é-ü", "x.y", "..", ".hidden", "zarr.json", "100%", "c"]
with h5py.File("names.h5", "w") as f:
    for i, name in enumerate(names):
        f.create_dataset(name, data=i)
with h5py.File("names.h5", "r") as f:
    print([int(f[name][()]) for name in names])
"""
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "[0, 1, 2, 3, 4, 5, 6, 7]" in result.stdout
    root = tmp_path / "vol" / "names.h5"
    entries = sorted(os.listdir(root))
    assert ".." not in entries and ".hidden" not in entries and "%2E%2E" in entries and "%2Ehidden" in entries
    assert sorted(os.listdir(tmp_path / "vol")) == ["names.h5"]  # nothing escaped the store


def test_names_round_trip_and_keys_cannot_escape(tmp_path):
    for name in ["a/b", "..", ".", "", "zarr.json", "ü", "%41"]:
        segment = encode(name)
        assert "/" not in segment and not segment.startswith(".") and decode(segment) == name
    kv = DirectoryKV(str(tmp_path / "store"))
    for bad in ["../x", "a/../../x", "/etc/passwd", "a//b"]:
        with pytest.raises(ValueError):
            kv.put(bad, b"x")
    assert not (tmp_path / "x").exists()


def test_compression_option_and_hdf5_filters(run_py, tmp_path):
    code = r"""
import h5py, numpy as np
with h5py.File("c.h5", "w") as f:
    f.create_dataset("plain", data=np.zeros(1000))
    f.create_dataset("deflated", data=np.zeros(1000), compression="gzip", compression_opts=6)
    f.create_dataset("shuffled", data=np.arange(1000.0), compression="gzip", shuffle=True)
"""
    result = run_py(code, connector="H5PyVOL compression=zstd:3")
    assert result.returncode == 0, result.output
    meta = lambda name: json.loads((tmp_path / "vol" / "c.h5" / name / "zarr.json").read_text())
    assert [c["name"] for c in meta("plain")["codecs"]] == ["bytes", "zstd"]
    assert meta("deflated")["codecs"][1] == {"name": "gzip", "configuration": {"level": 6}}
    assert zarr.open_array(str(tmp_path / "vol" / "c.h5" / "deflated"), mode="r")[...].sum() == 0
    blosc = meta("shuffled")["codecs"][1]
    assert blosc["name"] == "blosc" and blosc["configuration"]["cname"] == "zlib"
    assert blosc["configuration"]["shuffle"] == "shuffle" and blosc["configuration"]["typesize"] == 8
    assert zarr.open_array(str(tmp_path / "vol" / "c.h5" / "shuffled"), mode="r")[...].tolist() == list(range(1000))


def test_memory_urls_live_for_the_process(run_py):
    code = r"""
import h5py
with h5py.File("mem://scratch", "w") as f:
    f["x"] = [1, 2, 3]
with h5py.File("mem://scratch", "r") as f:
    print(f["x"][...].tolist())
"""
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "[1, 2, 3]" in result.stdout


@pytest.mark.parametrize("seed", range(6))
def test_chunk_engine_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 9, size=rng.integers(1, 4)))
    chunks = tuple(int(rng.integers(1, n + 2)) for n in shape)
    dtype = np.dtype("<i4")
    arr = ChunkedArray(MemoryKV(), "d", shape, chunks, dtype, ChunkCodec([{"name": "bytes"}], dtype, "raw"),
                       lambda s: np.full(s, -7, dtype), executor=__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
    reference = np.full(shape, -7, dtype)
    for _ in range(20):
        kind = rng.choice(["all", "hyperslab", "points"])
        if kind == "all":
            sel = Selection.all(shape)
        elif kind == "hyperslab":
            start = tuple(int(rng.integers(0, n)) for n in shape)
            block = tuple(int(rng.integers(1, n - s + 1)) for n, s in zip(shape, start))
            sel = Selection("hyperslab", shape, start, (1,) * len(shape), (1,) * len(shape), block)
        else:
            points = np.array([[int(rng.integers(0, n)) for n in shape] for _ in range(5)])
            points = np.unique(points, axis=0)
            sel = Selection("points", shape, points=points)
        data = rng.integers(0, 1000, size=sel.mshape).astype(dtype)
        arr.write(sel, data)
        sel.write_into(reference, data)
        np.testing.assert_array_equal(arr.read(Selection.all(shape)), reference)
        np.testing.assert_array_equal(arr.read(sel), sel.read_from(reference))


class RecordingKV(MemoryKV):
    """A real memory store that also notes which reads reach it."""

    def __init__(self):
        super().__init__()
        self.reads = []

    def get(self, key):
        self.reads.append(("whole", key))
        return super().get(key)

    def get_range(self, key, start, length):
        self.reads.append(("range", key, start, length))
        value = self._data.get(key)
        return None if value is None else value[start:start + length]


@pytest.mark.parametrize("compressed", [False, True])
def test_small_reads_fetch_only_the_bytes_they_need(compressed):
    from concurrent.futures import ThreadPoolExecutor

    dtype, shape, chunks = np.dtype("<f8"), (100, 100), (50, 50)
    codecs = [{"name": "bytes"}] + ([{"name": "zstd", "configuration": {"level": 1}}] if compressed else [])
    kv = RecordingKV()
    arr = ChunkedArray(kv, "d", shape, chunks, dtype, ChunkCodec(codecs, dtype, "raw"),
                       lambda s: np.full(s, -1.0, dtype), executor=ThreadPoolExecutor(2))
    reference = np.arange(10000, dtype=dtype).reshape(shape)
    arr.write(Selection("hyperslab", shape, (0, 0), (1, 1), (1, 1), (100, 50)), reference[:, :50])
    reference[:, 50:] = -1.0  # the right-hand chunks were never written
    kv.reads.clear()

    def hyperslab(start, stride, count):
        return Selection("hyperslab", shape, start, stride, count, (1, 1))
    one = hyperslab((60, 20), (1, 1), (1, 1))
    assert arr.read(one).tolist() == [[reference[60, 20]]]
    strided = hyperslab((10, 3), (2, 5), (3, 4))  # rows 10, 12, 14 of chunk (0, 0)
    np.testing.assert_array_equal(arr.read(strided), reference[10:15:2, 3:19:5])
    missing = hyperslab((70, 80), (1, 1), (1, 2))
    np.testing.assert_array_equal(arr.read(missing), [[-1.0, -1.0]])
    if compressed:
        assert kv.reads == [("whole", "d/c/1/0"), ("whole", "d/c/0/0"), ("whole", "d/c/1/1")]
    else:
        assert kv.reads == [("range", "d/c/1/0", (10 * 50 + 20) * 8, 8),
                            ("range", "d/c/0/0", (10 * 50 + 3) * 8, (4 * 50 + 18 - 3 + 1) * 8),
                            ("range", "d/c/1/1", (20 * 50 + 30) * 8, 16)]
    kv.reads.clear()
    np.testing.assert_array_equal(arr.read(Selection.all(shape)), reference)  # big reads take whole chunks
    assert sorted(kv.reads) == [("whole", f"d/c/{i}/{j}") for i in (0, 1) for j in (0, 1)]


def test_whole_chunks_read_into_place_and_a_wrong_sized_chunk_is_an_error(tmp_path):
    store = tmp_path / "whole.h5"
    scenario.whole_chunks_read_into_place(str(store), vol_env(), tmp_path,
                                          lambda key: (store / key).unlink(),
                                          lambda key, value: (store / key).write_bytes(value))


def test_chunk_cache_admits_a_chunk_read_twice_and_stays_within_its_bytes():
    from concurrent.futures import ThreadPoolExecutor

    from h5pyvol.store.chunkcache import ChunkCache

    dtype, shape, chunks = np.dtype("<f8"), (100, 100), (50, 50)
    kv = RecordingKV()
    arr = ChunkedArray(kv, "d", shape, chunks, dtype, ChunkCodec([{"name": "bytes"}], dtype, "raw"),
                       lambda s: np.full(s, -1.0, dtype), executor=ThreadPoolExecutor(2))
    reference = np.arange(10000, dtype=dtype).reshape(shape)
    arr.write(Selection.all(shape), reference)
    chunk_bytes = 50 * 50 * 8
    arr.cache = ChunkCache(capacity=2 * chunk_bytes)
    kv.reads.clear()

    def element(i, j):
        return arr.read(Selection("hyperslab", shape, (i, j), (1, 1), (1, 1), (1, 1)))[0, 0]
    assert element(3, 4) == reference[3, 4]        # first visit: only the element's bytes
    assert element(5, 6) == reference[5, 6]        # second: the whole chunk, kept
    assert element(7, 8) == reference[7, 8]        # then from memory
    assert kv.reads == [("range", "d/c/0/0", (3 * 50 + 4) * 8, 8), ("whole", "d/c/0/0")]
    for i, j in [(0, 60), (1, 61), (60, 0), (61, 1)]:  # two more chunks: the least recent one goes
        assert element(i, j) == reference[i, j]
    assert arr.cache.used <= arr.cache.capacity and len(arr.cache) == 2
    kv.reads.clear()
    assert element(9, 9) == reference[9, 9]
    assert ("whole", "d/c/0/0") in kv.reads, "the evicted chunk must be read again"
    # what a reader gets from the cache cannot change it
    out = arr.read(Selection.all(shape))
    out[...] = 0
    np.testing.assert_array_equal(arr.read(Selection.all(shape)), reference)
    arr.cache = ChunkCache(capacity=chunk_bytes - 1)  # smaller than a chunk: nothing is kept
    for _ in range(3):
        assert element(1, 1) == reference[1, 1]
    assert len(arr.cache) == 0


def test_chunk_cache_leaves_chunks_random_reads_come_back_to_long_after():
    """A chunk read by range again only after WINDOW other ranged reads is
    read by range again, not loaded whole: random small reads over a large
    dataset would otherwise load whole chunks the cache then evicts unused."""
    from h5pyvol.store.chunkcache import ChunkCache

    cache = ChunkCache(capacity=1 << 20)
    assert not cache.read_before("a")
    for i in range(ChunkCache.WINDOW - 1):
        assert not cache.read_before(f"other{i}")
    assert cache.read_before("a")  # the WINDOW-th ranged read after its first: admitted
    for i in range(ChunkCache.WINDOW):
        cache.read_before(f"later{i}")
    assert not cache.read_before("a")  # one more in between: a range again
    assert cache.read_before("a")
    assert len(cache._seen) <= ChunkCache.WINDOW + 1


CACHE_READER = r"""
import sys, h5py, subprocess
name = "cached.h5"
with h5py.File(name, "w") as f:
    f.create_dataset("x", data=list(range(100)), chunks=(50,), dtype="i8")

def overwrite(i, value):
    code = f"import h5py\nwith h5py.File({name!r}, 'r+') as f: f['x'][{i}] = {value}"
    subprocess.run([sys.executable, "-c", code], check=True)

reader = h5py.File(name, "r")
d = reader["x"]
seen = [int(d[i]) for i in range(10)]        # the chunk is now cached
overwrite(5, -5)
d.refresh()
print("after refresh", int(d[5]))
reader.close()
with h5py.File(name, "r") as f:
    print("after reopen", int(f["x"][5]))
swmr = h5py.File(name, "r", swmr=True)        # nor a SWMR reader's: it sees writes as they land
s = swmr["x"]
print("swmr first", [int(s[i]) for i in range(20, 24)])
overwrite(22, -22)
print("swmr sees", int(s[22]))
swmr.close()
writer = h5py.File(name, "r+")                # a writer's reads are never cached
w = writer["x"]
print("writer first", [int(w[i]) for i in range(10, 14)])
overwrite(12, -12)
print("writer sees", int(w[12]))
writer.close()
"""


def test_cached_chunks_give_way_to_refresh_reopen_and_write_intent(run_py):
    result = run_py(CACHE_READER)
    assert result.returncode == 0, result.output
    assert "after refresh -5" in result.stdout
    assert "after reopen -5" in result.stdout
    assert "writer first [10, 11, 12, 13]" in result.stdout
    assert "writer sees -12" in result.stdout
    assert "swmr first [20, 21, 22, 23]" in result.stdout
    assert "swmr sees -22" in result.stdout


def test_chunk_cache_option_is_checked(run_py):
    code = 'import h5py\nh5py.File("x.h5", "w")\n'
    result = run_py(code, connector="H5PyVOL connector=store chunk_cache=lots")
    assert result.returncode != 0
    assert "chunk_cache='lots': give a size in MiB" in result.output


def test_auto_chunks_terminate_for_huge_elements():
    from h5pyvol.store.zarrmeta import auto_chunks
    assert auto_chunks((3, 4), 4 << 20) == (1, 1)  # one element is bigger than the target
    chunks = auto_chunks((1024, 1024), 8)
    assert (1 << 19) < np.prod(chunks) * 8 <= (1 << 20)
    assert auto_chunks((), 8) == ()


def test_directory_versions_follow_writes(tmp_path):
    """The directory store's compare-and-swap: a version read after a
    write is the one the write returned; a stale one or ABSENT loses."""
    from h5pyvol.store.kv import DirectoryKV
    kv = DirectoryKV(str(tmp_path / "store"))
    first = kv.put_if_version("g/zarr.json", b"x" * 100000, kv.ABSENT)
    assert first is not None and kv.get_versioned("g/zarr.json") == (b"x" * 100000, first)
    assert kv.put_if_version("g/zarr.json", b"y", kv.ABSENT) is None
    assert kv.put_if_version("g/zarr.json", b"y", "1-2-3") is None
    second = kv.put_if_version("g/zarr.json", b"y", first)
    assert second not in (None, first) and kv.get_versioned("g/zarr.json") == (b"y", second)
    assert kv.put_if_version("g/zarr.json", b"z", first) is None
    assert list(kv.list()) == ["g/zarr.json"]  # the lock file is not a key


def test_merge_keeps_both_writers_changes_and_names_conflicts():
    from h5pyvol.store.merge import ConflictError, merge

    def node(links, attrs, shape=(4,)):
        return {"shape": list(shape), "attributes": {"_h5pyvol": {
            "links": [{"name": n, "corder": i} for i, n in enumerate(links)],
            "attrs": [{"name": n, "corder": i, "data": v} for i, (n, v) in enumerate(attrs.items())],
            "generation": 3}}}
    base = node(["a"], {"x": 1})
    mine = node(["a", "mine"], {"x": 1, "m": 2})
    theirs = node(["a", "theirs"], {"x": 5})
    merged = merge(base, mine, theirs, "'/g'")
    reserved = merged["attributes"]["_h5pyvol"]
    assert [(e["name"], e["corder"]) for e in reserved["links"]] == [("a", 0), ("theirs", 1), ("mine", 2)]
    assert {e["name"]: e["data"] for e in reserved["attrs"]} == {"x": 5, "m": 2}
    assert reserved["generation"] == 4
    with pytest.raises(ConflictError, match="attribute 'x' of '/g'"):
        merge(base, node(["a"], {"x": 2}), theirs, "'/g'")
    with pytest.raises(ConflictError, match="'shape' of '/g'"):
        merge(base, node(["a"], {"x": 1}, (6,)), node(["a"], {"x": 1}, (7,)), "'/g'")
    with pytest.raises(ConflictError, match="link 'a' of '/g'"):
        merge(base, node([], {"x": 1}), {**base, "attributes": {"_h5pyvol": {
            **base["attributes"]["_h5pyvol"], "links": [{"name": "a", "corder": 0, "node": "elsewhere"}]}}}, "'/g'")


def test_pool_threads_let_go_of_values_and_results_when_in_parallel_returns():
    """A worker that kept a view of HDF5's buffer past the call's end made
    the bridge fail a read ("kept a reference"); in_parallel hands the
    threads only indexes into a dict it empties before returning."""
    import weakref
    from concurrent.futures import ThreadPoolExecutor

    from h5pyvol.store.kv import in_parallel

    class Value:
        pass
    with ThreadPoolExecutor(4) as pool:
        for _ in range(50):
            values = [Value() for _ in range(8)]
            refs = [weakref.ref(v) for v in values]
            results = in_parallel(pool, lambda v: v, values)
            assert results == values
            del values, results
            assert all(r() is None for r in refs), "a pool thread still holds a value or a result"

        def fail_once(v):
            if v == 3:
                raise ValueError("chunk 3")
            time.sleep(0.01)
            finished.append(v)
        finished = []
        with pytest.raises(ValueError, match="chunk 3"):
            in_parallel(pool, fail_once, range(8))
        assert sorted(finished) == [0, 1, 2, 4, 5, 6, 7], "every task ends before the failure is raised"
