"""Defects real programs met (issue 11), each run natively and through
H5PyVOL in the same test, outputs compared.

The programs are HDF5's own examples from Debian's hdf5 source package
(scripts/hdf5_examples.sh fetches them into the cache) and small h5py
scripts; the corpus of all examples is tests/test_corpus.py.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import CONNECTORS, assert_no_crash, run, vol_env
from h5pyvol.paths import hdf5_prefix

STORE = "H5PyVOL"
MEMORY = "H5PyVOL connector=memory"


@pytest.fixture
def both(build_c, examples, tmp_path):
    """both(example, connector) -> (native Result, H5PyVOL Result), each in a
    directory of its own; h5dump(...) of what they wrote follows with .dump."""
    def runner(example: str, connector: str = STORE):
        exe = build_c(str(examples / "C" / example))
        results = []
        for name, conn in (("native", None), ("vol", connector)):
            cwd = tmp_path / f"{name}-{Path(example).stem}-{'memory' if conn == MEMORY else 'store'}"
            cwd.mkdir(exist_ok=True)
            result = run([exe], vol_env(conn), cwd)
            assert_no_crash(result)
            result.cwd, result.connector = cwd, conn
            results.append(result)
        return results
    return runner


def h5dump(result, *args: str) -> str:
    """h5dump of a file a program wrote, through the connector it wrote with."""
    tool = os.path.join(hdf5_prefix(), "bin", "h5dump")
    out = run([tool, *args], vol_env(result.connector), result.cwd)
    assert_no_crash(out)
    return out.stdout + out.stderr


def assert_same(native, ours):
    assert native.returncode == 0, native.output
    assert ours.returncode == native.returncode, ours.output
    assert ours.stdout == native.stdout


# 1 -- a compound with a variable-length string member, file type != memory type
@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
@pytest.mark.parametrize("example,file", [("H5T/h5ex_t_cmpd.c", "h5ex_t_cmpd.h5"),
                                          ("H5T/h5ex_t_cmpdatt.c", "h5ex_t_cmpdatt.h5")])
def test_compound_with_vlen_string_member(both, connector, example, file):
    native, ours = both(example, connector)
    assert_same(native, ours)
    assert "Exterior (static)" in ours.stdout
    if connector == STORE:
        assert h5dump(ours, file) == h5dump(native, file)


PARTIAL_COMPOUND = """
import h5py, numpy as np
dt = np.dtype([("serial", ">i8"), ("location", h5py.string_dtype()), ("temp", ">f8")])
with h5py.File("partial.h5", "w") as f:
    d = f.create_dataset("d", (3,), dtype=dt)
    d[...] = np.array([(1, "north", 1.5), (2, "south", 2.5), (3, "east", 3.5)], dtype=dt)
    # writing only some fields keeps the others, vlen member included
    d.write_direct(np.array([(10.0,), (20.0,), (30.0,)], dtype=[("temp", "<f4")]))
    d[1:2] = np.array([(22, "changed", 0.0)], dtype=dt)
    f.attrs.create("a", np.array([(7, "attr", 7.5)], dtype=dt))
with h5py.File("partial.h5", "r") as f:
    print(f["d"][...].tolist(), f.attrs["a"].tolist())
"""


@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_partial_compound_write_keeps_vlen_members(run_py, connector):
    native = run_py(PARTIAL_COMPOUND, connector=None)
    ours = run_py(PARTIAL_COMPOUND, connector=connector)
    assert_same(native, ours)
    assert "north" in ours.stdout and "changed" in ours.stdout


# 2 -- data transforms
@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
@pytest.mark.parametrize("example", ["H5D/h5ex_d_transform.c", "TUTR/h5_dtransform.c"])
def test_data_transform_applied(both, connector, example):
    native, ours = both(example, connector)
    assert_same(native, ours)


@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_data_transform_both_ways_and_refusal(run_c, connector):
    native = run_c("transform_app.c", connector=None)
    ours = run_c("transform_app.c", connector=connector)
    assert_same(native, ours)
    assert "plain read: 1: -1 1 3 5 7 9" in ours.stdout and "compound with a transform: refused" in ours.stdout


# 3 -- the original handover's example connector, as written there
def test_original_handover_connector_serves_a_c_program(build_c, tmp_path):
    shutil.copytree(CONNECTORS / "in_memory_vol", tmp_path / "in_memory_vol")
    env = vol_env(pythonpath=False, H5PyVOLModule="in_memory_vol", H5PyVOLClass="InMemoryVOL")
    ours = run([build_c("legacy_app.c")], env, tmp_path)
    native = run([build_c("legacy_app.c")], vol_env(None), tmp_path)
    assert_no_crash(ours)
    assert native.returncode == 0 and ours.returncode == 0, ours.output
    # the program's own output as natively, and the connector's own prints
    assert [ln for ln in ours.stdout.splitlines() if ln.startswith("legacy_app")] == native.stdout.splitlines()
    for line in ("Creating file legacy.h5", "Creating dataset legacy.h5/ints", "Writing dataset legacy.h5/ints",
                 "Reading dataset legacy.h5/ints"):
        assert line in ours.stdout


# 4 -- names of objects opened through soft links
NAMES = """
import h5py
with h5py.File("names.h5", "w") as f:
    f["a"] = [1, 2, 3]
    f.create_group("g")["b"] = [4]
    f["soft"] = h5py.SoftLink("/a")
    f["g/soft2"] = h5py.SoftLink("/g/b")
    f["g/up"] = h5py.SoftLink("/g")
    f["g"]["hard"] = f["a"]
    print(f["soft"].name, f["g/soft2"].name, f["g"]["soft2"].name, f["g/hard"].name, f["a"].name)
    print(f["g/up/b"].name, f["g/up"]["soft2"].parent.name, f["//g/./b"].name)
    kept, plain, below = f["soft"], f["g"], f["g/b"]
    f.move("a", "moved")
    f.move("g", "h")
    print(kept.name, plain.name, below.name, f["h/b"].name)
    del f["h/hard"]
    del f["soft"]  # natively a handle without a valid path is named by a path found in the file
    print(repr(kept.name), repr(f["moved"].name), repr(plain.name))
"""


@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_names_are_the_paths_objects_were_opened_by(run_py, connector):
    native = run_py(NAMES, connector=None)
    ours = run_py(NAMES, connector=connector)
    assert_same(native, ours)
    assert ours.stdout.startswith("/soft /g/soft2 /g/soft2 /g/hard /a")


# 5 -- allocation time
@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_early_allocation(both, connector):
    native, ours = both("H5D/h5ex_d_alloc.c", connector)
    assert_same(native, ours)
    assert "Space for DS2 has been allocated" in ours.stdout


# 6 -- H5Fget_filesize: the bytes the store holds
FILESIZE = """
import h5py, numpy as np, os, sys
with h5py.File("size.h5", "w") as f:
    f["x"] = np.arange(1000, dtype="f8")
    f.attrs["note"] = np.arange(3, dtype="i2")
with h5py.File("size.h5", "r") as f:
    print(f.id.get_filesize())
"""


def test_filesize_is_the_bytes_the_store_holds(run_py, tmp_path):
    ours = run_py(FILESIZE)
    assert ours.returncode == 0, ours.output
    on_disk = sum(p.stat().st_size for p in (tmp_path / "vol" / "size.h5").rglob("*") if p.is_file())
    assert int(ours.stdout) == on_disk and on_disk > 8000
    memory = run_py(FILESIZE.replace('"r"', '"a"'), connector=MEMORY)
    assert memory.returncode == 0, memory.output
    assert int(memory.stdout) == 8000 + 6  # elements and attribute values


# 7 -- group storage type follows the phase change and the format bounds
@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_group_storage_phases(both, connector):
    native, ours = both("H5G/h5ex_g_phase.c", connector)
    assert_same(native, ours)
    assert "DENSE" in ours.stdout and "COMPACT" in ours.stdout


def test_group_storage_by_format_bounds(both):
    native, ours = both("H5G/h5ex_g_compact.c")
    # the file sizes are native file-format bytes; the storage types must agree
    def types(result):
        return [ln for ln in result.stdout.splitlines() if "File size" not in ln]
    assert native.returncode == 0 and ours.returncode == 0, ours.output
    assert types(ours) == types(native)
    assert any("SYMBOL_TABLE" in ln for ln in types(ours)) and any("COMPACT" in ln for ln in types(ours))


def test_group_storage_kept_in_the_store(run_c, tmp_path):
    """The phase a group is in and the file's format bound outlive the process."""
    outputs = {}
    for connector in (None, STORE):
        cwd = tmp_path / ("native-phases" if connector is None else "vol-phases")
        runs = [run_c("phases_app.c", mode, connector=connector, cwd=cwd) for mode in ("write", "read", "append")]
        assert all(r.returncode == 0 for r in runs), runs[-1].output
        outputs[connector] = [r.stdout for r in runs]
    assert outputs[STORE] == outputs[None]
    assert "latest.h5: 6 links dense, 3 links dense, root compact" in outputs[STORE][0]
    assert "earliest.h5 reopened: g symbol table" in outputs[STORE][1]


# 8 -- scale-offset, per chunk as natively
@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
@pytest.mark.parametrize("example", ["H5D/h5ex_d_sofloat.c", "H5D/h5ex_d_soint.c"])
def test_scale_offset_as_native(both, connector, example):
    native, ours = both(example, connector)
    assert_same(native, ours)


SCALEOFFSET = """
import h5py, numpy as np
rng = np.random.default_rng(5)
with h5py.File("so.h5", "w") as f:
    d = f.create_dataset("f", (30, 50), dtype="f8", chunks=(8, 16), scaleoffset=3, fillvalue=-1.0)
    d[3:17, 5:40] = rng.normal(100, 20, (14, 35))   # partial chunks, edge chunks, fill excluded
    d[[0, 29], :] = 1.23456789
    i = f.create_dataset("i", data=rng.integers(-500, 500, (40, 7)), chunks=(16, 4), scaleoffset=0)
# read after closing: natively, chunks still in the chunk cache read back unfiltered
with h5py.File("so.h5", "r") as f:
    print(np.round(f["f"][...], 9).tolist(), f["i"][...].tolist())
"""


@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_scale_offset_partial_writes(run_py, connector):
    native = run_py(SCALEOFFSET, connector=None)
    ours = run_py(SCALEOFFSET, connector=connector)
    assert_same(native, ours)


# found by the corpus: array members beside variable-length ones
ARRAY_MEMBERS = """
import h5py, numpy as np
dt = np.dtype([("name", h5py.string_dtype()), ("where", "<f8", (3,)), ("ids", ">i2", (2, 2))])
with h5py.File("arrays.h5", "w") as f:
    f["d"] = np.array([("a", [1, 2, 3], [[1, 2], [3, 4]]), ("b", [4, 5, 6], [[5, 6], [7, 8]])], dtype=dt)
    f.attrs.create("a", f["d"][...])
with h5py.File("arrays.h5", "r") as f:
    print(f["d"][...].tolist(), f.attrs["a"].tolist())
"""


@pytest.mark.parametrize("connector", [STORE, MEMORY], ids=["store", "memory"])
def test_array_members_beside_vlen_members(run_py, connector):
    native = run_py(ARRAY_MEMBERS, connector=None)
    ours = run_py(ARRAY_MEMBERS, connector=connector)
    assert_same(native, ours)
    assert "array([4., 5., 6.])" in ours.stdout
