"""What the command-line tools (issue 13) must do, on any backend: run by
test_tools.py on the directory store, test_s3.py and test_rados.py on the
object stores.  Every scenario runs the installed ``h5pyvol`` command in
other processes, as a user would."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

from conftest import Result, run
from h5pyvol.paths import hdf5_prefix

H5PYVOL = str(Path(sys.executable).with_name("h5pyvol"))


def h5pyvol(args: list, env: dict, cwd: Path, timeout: float = 300) -> Result:
    return run([H5PYVOL, *args], env, cwd, timeout=timeout)


def tool(name: str) -> str:
    return os.path.join(hdf5_prefix(), "bin", name)


def make_rich_file(path: Path) -> None:
    """A native file with one of everything h5dump shows."""
    with h5py.File(path, "w", track_order=True) as f:
        g = f.create_group("grp", track_order=True)
        d = g.create_dataset("chunked", (50, 40), chunks=(10, 10), dtype=">i2", compression="gzip", shuffle=True,
                             fillvalue=-7)
        d[0:20, 0:20] = np.arange(400).reshape(20, 20)
        f["contig"] = np.linspace(0, 1, 1000)
        f.create_dataset("never_written", (30,), dtype="f4")
        f["vstr"] = np.array(["a", "bcd", "éé"], dtype=h5py.string_dtype())
        f["fixed"] = np.array([b"ab", b"cde"], dtype="S4")
        cmp = np.dtype([("x", "<f4"), ("s", "S5"), ("a", "<i4", (3,))])
        f.create_dataset("cmpd", data=np.array([(1.5, b"hi", [1, 2, 3])] * 4, dtype=cmp))
        f["enum"] = np.array([0, 1, 1], dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1}, basetype="u1"))
        f.create_dataset("vlen", data=np.array([np.arange(3), np.arange(5)], dtype=object),
                         dtype=h5py.vlen_dtype("i4"))
        f["refs"] = np.array([f["contig"].ref, g.ref, h5py.Reference()], dtype=h5py.ref_dtype)
        f["regrefs"] = np.array([d.regionref[0:2, 0:3]], dtype=h5py.regionref_dtype)
        f["soft"] = h5py.SoftLink("/grp/chunked")
        f["ext"] = h5py.ExternalLink("other.h5", "/x")
        f["hard"] = f["enum"]  # (not a referenced object: which of two names a reference shows is HDF5's choice)
        f.create_dataset("grow", (5, 3), maxshape=(None, 3), chunks=(2, 3), dtype="u8")[:] = 9
        f.attrs["title"] = "hello"
        f.attrs["nums"] = np.arange(5, dtype="<u8")
        f.attrs["ref"] = g.ref
        g.attrs["vs"] = np.array(["x", "yy"], dtype=h5py.string_dtype())
        f["typ"] = np.dtype("<f8")
        f.create_dataset("uses_typ", data=np.ones(3), dtype=f["typ"])
        f.attrs["empty"] = h5py.Empty("f4")


def dump(path: str, env: dict, cwd: Path, *args) -> str:
    result = run([tool("h5dump"), *args, path], env, cwd)
    assert result.returncode == 0, result.output
    text = re.sub(r"^(\s*OFFSET) \d+$", r"\1 <where HDF5 put it>", result.stdout, flags=re.M)
    return text.replace(path, "<file>")


def round_trip_keeps_h5dump(store_url: str, env: dict, native_env: dict, tmp_path: Path, jobs: int = 1) -> None:
    """native -> store -> native with the command; h5dump -p of both native
    files equal, and h5dump of the store (through H5PyVOL) equals the
    original's."""
    make_rich_file(tmp_path / "rich.h5")
    there = h5pyvol(["copy", "-j", str(jobs), "rich.h5", store_url], env, tmp_path)
    assert there.returncode == 0, there.output
    back = h5pyvol(["copy", "-j", str(jobs), store_url, "back.h5"], env, tmp_path)
    assert back.returncode == 0, back.output
    assert dump("back.h5", native_env, tmp_path, "-p") == dump("rich.h5", native_env, tmp_path, "-p")
    assert dump(store_url, env, tmp_path) == dump("rich.h5", native_env, tmp_path)
    listing = h5pyvol(["ls", "-r", store_url], env, tmp_path)
    assert listing.stdout == run([tool("h5ls"), "-r", "rich.h5"], native_env, tmp_path).stdout, listing.output
    checked = h5pyvol(["check", store_url], env, tmp_path)
    assert checked.returncode == 0 and "0 problems" in checked.stdout, checked.output


def pack_unpack_round_trip(store_url: str, env: dict, native_env: dict, tmp_path: Path) -> None:
    """store -> archive -> store and -> native; the archive opens in
    zarr-python, in h5py and in h5dump, read-only."""
    make_rich_file(tmp_path / "rich.h5")
    assert h5pyvol(["copy", "rich.h5", store_url], env, tmp_path).returncode == 0
    packed = h5pyvol(["pack", store_url, "data.zip"], env, tmp_path)
    assert packed.returncode == 0, packed.output
    assert dump("data.zip", env, tmp_path) == dump("rich.h5", native_env, tmp_path)
    unpacked = h5pyvol(["unpack", "data.zip", "again.h5"], env, tmp_path)
    assert unpacked.returncode == 0, unpacked.output
    assert dump("again.h5", native_env, tmp_path, "-p") == dump("rich.h5", native_env, tmp_path, "-p")
    readers = subprocess.run([sys.executable, "-c", ZIP_READERS], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
    assert readers.returncode == 0, readers.stderr
    assert readers.stdout.split("\n")[:2] == ["zarr [0, 1, 2, 20, 21, 22]", "h5py [0, 1, 2, 20, 21, 22]"], \
        readers.stdout
    assert "PermissionError" in readers.stdout and "read-only" in readers.stdout, readers.stdout


ZIP_READERS = r"""
import h5py, zarr, numpy as np
g = zarr.open_group(zarr.storage.ZipStore("data.zip", mode="r"), mode="r")
print("zarr", g["grp/chunked"][0:2, 0:3].ravel().tolist())
with h5py.File("data.zip", "r") as f:
    print("h5py", f["grp/chunked"][0:2, 0:3].ravel().tolist())
try:
    h5py.File("data.zip", "r+")
    print("opened for writing")
except OSError as exc:
    print(exc)
"""


RECHUNK_READER = r"""
import json, os, sys, h5py, numpy as np
url, stop_file, mode = sys.argv[1], sys.argv[2], sys.argv[3]
counts = {"reads": 0, "wrong": 0, "told_to_refresh": 0, "layouts": []}
held = h5py.File(url, "r") if mode.startswith("held") else None  # (one process: every open of a file shares it)
expected = None
while not os.path.exists(stop_file):
    f = held if held is not None else h5py.File(url, "r")
    d = f["data"]
    try:
        values = d[...]
    except OSError as exc:  # a reader that read the old layout, reading after the swap
        if "new chunk layout" not in str(exc):
            raise
        counts["told_to_refresh"] += 1
        d.refresh()
        if held is None:
            f.close()
        continue
    if expected is None:
        expected = np.arange(values.size, dtype=values.dtype).reshape(values.shape) + 1
    counts["reads"] += 1
    counts["wrong"] += int((values != expected).any())
    if str(d.chunks) not in counts["layouts"]:
        counts["layouts"].append(str(d.chunks))
    if held is None:
        f.close()
print(json.dumps(counts))
"""


def rechunk_is_atomic_for_readers(url: str, env: dict, tmp_path: Path, readers: int = 2) -> dict:
    """Readers in other processes read a dataset over and over while
    ``h5pyvol rechunk`` gives it new chunks: every read is whole (no fill
    values where data is), readers that open the file afresh for each read
    see the old layout and then the new one, and one that keeps it open
    across the swap is told to refresh, never given wrong data."""
    made = subprocess.run([sys.executable, "-c", "import sys, h5py, numpy as np\n"
                           "with h5py.File(sys.argv[1], 'w') as f:\n"
                           "    f.create_dataset('data', data=np.arange(600 * 2000, dtype='i8').reshape(600, 2000) + 1,"
                           " chunks=(10, 2000))", url], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    stop = tmp_path / "stop"
    # "held" reads without the chunk cache, so that each read reaches the
    # store's chunks; "held-cached" with it, so that the cache is shown never
    # to hand out a mix of layouts either
    modes = ["fresh"] * readers + ["held-cached", "held"]
    envs = {"held": {**env, "H5PYVOL_STORE_CHUNK_CACHE": "0"}}
    procs = [subprocess.Popen([sys.executable, "-c", RECHUNK_READER, url, str(stop), mode], env=envs.get(mode, env),
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for mode in modes]
    time.sleep(2)
    done = h5pyvol(["rechunk", url, "/data", "--chunks", "300,100"], env, tmp_path)
    time.sleep(2)
    stop.write_text("")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert done.returncode == 0, done.output
    assert all(r["wrong"] == 0 for r in results), results
    # each sees the old layout, then the new one; the holder is told to refresh in between (a reader that
    # opened just before the swap may be told too, if its read outlasts rechunk's grace period)
    assert all(r["reads"] > 0 for r in results), results
    # the cached holder may read its old layout's chunks from memory to the end (the same values)
    cached = modes.index("held-cached")
    assert results[cached]["layouts"] in (["(10, 2000)"], ["(10, 2000)", "(300, 100)"]), results
    assert all(r["layouts"] == ["(10, 2000)", "(300, 100)"] for i, r in enumerate(results) if i != cached), results
    assert results[-1]["told_to_refresh"] >= 1, results
    return {"reads": sum(r["reads"] for r in results), "told_to_refresh": sum(r["told_to_refresh"] for r in results),
            "wrong": 0}
