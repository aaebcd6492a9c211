"""Python hosts: unmodified h5py scripts, and Debian's statically linked
python3 driving libhdf5 through ctypes.  The plugin joins the running
interpreter instead of starting one."""
import os
import sysconfig

import pytest

from conftest import ROOT
from h5pyvol.paths import hdf5_prefix



def like_native(run_py, code: str, connector: str):
    """Runs code natively and through connector; both must succeed and print
    the same.  Returns the run through the connector."""
    native = run_py(code, connector=None)
    assert native.returncode == 0, native.output
    ours = run_py(code, connector=connector)
    assert ours.returncode == 0, ours.output
    assert ours.stdout == native.stdout
    return ours

def test_h5py_example_script(run_py):
    result = run_py((ROOT / "examples" / "h5py_app.py").read_text(), "example.h5")
    assert result.returncode == 0, result.output
    assert "run/1/counts=[3, 1, 40, 10, 5, 9]" in result.stdout


H5PY_ROUND_TRIP = r"""
import h5py, numpy as np
with h5py.File("t.h5", "w") as f:
    f["a"] = np.arange(20, dtype="<i2").reshape(4, 5)
    f.create_dataset("big/endian", data=np.linspace(0, 1, 7).astype(">f8"))
    f.create_dataset("s", data=np.array([b"ab", b"cde"], dtype="S3"))
    f.create_dataset("scalar", data=3.5)
    f.create_dataset("grow", shape=(2, 3), maxshape=(None, 3), dtype="u1", chunks=(1, 3), fillvalue=7)
    c = np.zeros(3, dtype=[("x", "<i4"), ("y", "<f8")]); c["x"] = [1, 2, 3]; c["y"] = [.5, 1.5, 2.5]
    f["compound"] = c
    f.file.flush()
    print("names", f["big/endian"].name, f["big"].name, f.filename)
with h5py.File("t.h5", "r+") as f:
    a = f["a"]
    print("fancy", a[[0, 2], 1:4].tolist(), a[a[...] % 7 == 0].tolist())
    print("endian", f["big/endian"].dtype.str, round(float(f["big/endian"][3]), 6))
    print("strings", f["s"][...].tolist(), "scalar", f["scalar"][()])
    g = f["grow"]
    print("grow", g.chunks, g.maxshape, g.fillvalue, g[...].tolist())
    g.resize((3, 3)); g[2] = [9, 8, 7]
    print("grown", g[...].tolist())
    print("fields", f["compound"]["y"].tolist(), f["compound"][1].tolist())
    print("astype", f["a"].astype("f4")[3].tolist())
"""


def test_h5py_round_trip(run_py):
    result = run_py(H5PY_ROUND_TRIP)
    assert result.returncode == 0, result.output
    out = result.stdout
    assert "names /big/endian /big t.h5" in out
    assert "fancy [[1, 2, 3], [11, 12, 13]] [0, 7, 14]" in out
    assert "endian >f8 0.5" in out
    assert "strings [b'ab', b'cde'] scalar 3.5" in out
    assert "grow (1, 3) (None, 3) 7 [[7, 7, 7], [7, 7, 7]]" in out
    assert "grown [[7, 7, 7], [7, 7, 7], [9, 8, 7]]" in out
    assert "fields [0.5, 1.5, 2.5] (2, 1.5)" in out
    assert "astype [15.0, 16.0, 17.0, 18.0, 19.0]" in out


def test_h5py_same_output_as_native(run_py):
    native = run_py(H5PY_ROUND_TRIP, connector=None)
    assert native.returncode == 0, native.output
    assert run_py(H5PY_ROUND_TRIP).stdout == native.stdout


def test_h5py_reads_with_gil_released_from_threads(run_py):
    code = r"""
import threading, h5py, numpy as np
with h5py.File("threads.h5", "w") as f:
    for i in range(4):
        f[f"d{i}"] = np.full(1000, i, dtype="i4")
    errors = []
    def worker(i):
        try:
            for _ in range(50):
                assert (f[f"d{i}"][...] == i).all()
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("errors", errors)
"""
    result = run_py(code)
    assert result.returncode == 0, result.output
    assert "errors []" in result.stdout


def test_info_string_keys_reach_the_constructor(run_py):
    code = 'import h5py\nf = h5py.File("opts.h5", "w")\nprint(f.filename)\nf.close()\n'
    result = run_py(code, connector="H5PyVOL module=misbehaving class=OptionsVOL bucket=b1 level=3")
    assert result.returncode == 0, result.output
    assert "opts.h5?bucket=b1&level=3" in result.stdout


CTYPES_HOST = r"""
import ctypes, sys
hdf5 = ctypes.CDLL(sys.argv[1])
hdf5.H5open()
hid = ctypes.c_int64
P_DEFAULT = hid(0)
for name in ("H5Fcreate", "H5Screate_simple", "H5Dcreate2", "H5Fopen", "H5Dopen2"):
    getattr(hdf5, name).restype = hid
native_int = hid.in_dll(hdf5, "H5T_NATIVE_INT_g")
f = hdf5.H5Fcreate(b"ctypes.h5", 2, P_DEFAULT, P_DEFAULT)
dims = (ctypes.c_uint64 * 1)(5)
space = hdf5.H5Screate_simple(1, dims, None)
d = hdf5.H5Dcreate2(hid(f), b"five", native_int, hid(space), P_DEFAULT, P_DEFAULT, P_DEFAULT)
data = (ctypes.c_int * 5)(5, 4, 3, 2, 1)
assert hdf5.H5Dwrite(hid(d), native_int, hid(0), hid(0), P_DEFAULT, data) >= 0
hdf5.H5Dclose(hid(d)); hdf5.H5Fclose(hid(f))
f = hdf5.H5Fopen(b"ctypes.h5", 0, P_DEFAULT)
d = hdf5.H5Dopen2(hid(f), b"five", P_DEFAULT)
back = (ctypes.c_int * 5)()
assert hdf5.H5Dread(hid(d), native_int, hid(0), hid(0), P_DEFAULT, back) >= 0
print("ctypes host read", list(back), "python", sys.version.split()[0])
"""


@pytest.mark.parametrize("python", ["venv", "debian-static"])
def test_bare_python_host_via_ctypes(run_py, python):
    """No h5py: the host is Python itself, linked to libpython (the venv's
    pyenv build) or statically (Debian's /usr/bin/python3)."""
    if python == "debian-static":
        exe = "/usr/bin/python3.11"
        if not os.path.exists(exe):
            pytest.skip("Debian's python3.11 is not installed")
        extra = {"PYTHONPATH": os.pathsep.join([sysconfig.get_paths()["purelib"], str(ROOT / "tests" / "connectors")])}
    else:
        exe, extra = None, {}
    libhdf5 = os.path.join(hdf5_prefix(), "lib", "libhdf5.so")
    kwargs = {"python": exe} if exe else {}
    result = run_py(CTYPES_HOST, libhdf5, **kwargs, **extra)
    assert result.returncode == 0, result.output
    assert "ctypes host read [5, 4, 3, 2, 1]" in result.stdout


H5PY_DATA_MODEL = r"""
import h5py, numpy as np
with h5py.File("m.h5", "w") as f:
    d = f.create_dataset("d", data=np.arange(6).reshape(2, 3))
    d.attrs["units"] = "m/s"
    d.attrs["scale"] = 2.5
    d.attrs["vec"] = np.arange(4, dtype="i2")
    d.attrs["scale"] = 3.5
    del d.attrs["vec"]
    f.attrs["title"] = np.bytes_("hello")
    s = f.create_dataset("vstr", (3,), dtype=h5py.string_dtype())
    s[:] = ["alpha", "β", ""]
    v = f.create_dataset("ragged", (3,), dtype=h5py.vlen_dtype("i4"))
    v[0] = [1, 2, 3]; v[1] = []; v[2] = [7]
    f["named"] = np.dtype([("x", "<i4"), ("y", "<f8")])
    t = f.create_dataset("typed", (2,), dtype=f["named"])
    t["x"] = [5, 6]
    e = f.create_dataset("enum", data=np.array([0, 1, 1], dtype="u1"),
                         dtype=h5py.enum_dtype({"OFF": 0, "ON": 1}, basetype="u1"))
    f["flags"] = np.array([True, False])
with h5py.File("m.h5", "r") as f:
    d = f["d"]
    print("attrs", d.attrs["units"], d.attrs["scale"], "vec" in d.attrs, f.attrs["title"])
    print("vstr", [x.decode() for x in f["vstr"][...]], f["vstr"].asstr()[1])
    print("ragged", [x.tolist() for x in f["ragged"][...]])
    print("named", f["typed"].dtype == f["named"].dtype, f["typed"][...].tolist(), f["named"].id.committed())
    print("enum", h5py.check_enum_dtype(f["enum"].dtype), f["enum"][...].tolist())
    print("bool", f["flags"][...].tolist(), f["flags"].dtype)
"""


def test_h5py_data_model_like_native(run_py):
    native = run_py(H5PY_DATA_MODEL, connector=None)
    assert native.returncode == 0, native.output
    ours = run_py(H5PY_DATA_MODEL)
    assert ours.returncode == 0, ours.output
    assert ours.stdout == native.stdout
    assert "ragged [[1, 2, 3], [], [7]]" in ours.stdout


VLEN_FILL = r"""
import h5py
with h5py.File("vf.h5", "w") as f:
    f.create_dataset("x", (10,), dtype=h5py.string_dtype("ascii"), fillvalue=b"bar")
    print("read", f["x"][0], "fill", f["x"].fillvalue)
with h5py.File("vf.h5", "r") as f:
    print("reopened", f["x"][3], f["x"].fillvalue)
"""


@pytest.mark.parametrize("connector", [None, "H5PyVOL connector=memory", "H5PyVOL"])
def test_vlen_fill_value_survives_its_property_list(run_py, connector):
    """HDF5 encodes a vlen fill value as pointers; they must not dangle."""
    result = run_py(VLEN_FILL, connector=connector)
    assert result.returncode == 0, result.output
    assert "read b'bar' fill b'bar'" in result.stdout
    assert "reopened b'bar' b'bar'" in result.stdout


FIXED_STRING_FILL = r"""
import h5py
with h5py.File("ff.h5", "w") as f:
    f.create_dataset("b", (10,), dtype="S3", fillvalue=b"bar")
    f.create_dataset("u", (10,), dtype=h5py.string_dtype("utf-8", 10), fillvalue="bár".encode())
    print("fills", f["b"][0], f["b"].fillvalue, f["u"][1].decode(), f["u"].fillvalue.decode())
"""


@pytest.mark.parametrize("connector", [None, "H5PyVOL connector=memory", "H5PyVOL"])
def test_fixed_string_fill_values(run_py, connector):
    """h5py sets these fills through a vlen string type; the dataset must
    still report them in its own type, and nothing may be freed twice."""
    result = run_py(FIXED_STRING_FILL, connector=connector)
    assert result.returncode == 0, result.output
    assert "fills b'bar' b'bar' bár bár" in result.stdout


BROADCAST_WRITES = r"""
import h5py, numpy as np
with h5py.File("bc.h5", "w") as f:
    rows = f.create_dataset("rows", shape=(4, 6), dtype="i4")
    rows[1:3] = np.arange(6)          # one row, written twice at an offset
    cube = f.create_dataset("cube", shape=(3, 5, 5), dtype="i4", chunks=(1, 5, 5))
    cube[0:2] = 12                    # a scalar over two chunks
    cube[2, :, 4] = 7
    pts = f.create_dataset("pts", shape=(5, 5), dtype="i4")
    pts[1:4:2, 2:4] = np.array([1, 2])  # a strided selection, broadcast by rows
    for name in ("rows", "cube", "pts"):
        print(name, f[name][...].tolist())
"""


@pytest.mark.parametrize("connector", ["H5PyVOL connector=memory", "H5PyVOL"])
def test_broadcast_writes_land_where_native_puts_them(run_py, connector):
    """h5py broadcasts by moving one selection with H5Soffset_simple; the
    offset must reach the connector (it used to write row 0 every time)."""
    ours = like_native(run_py, BROADCAST_WRITES, connector)
    assert "rows [[0, 0, 0, 0, 0, 0], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [0, 0, 0, 0, 0, 0]]" in ours.stdout


H5PY_VERSION1_PATHS = r"""
import h5py, numpy as np
with h5py.File("v1.h5", "w", track_order=True) as f:
    f.create_group("g/h")
    f["d"] = np.arange(4)
    f["soft"] = h5py.SoftLink("/g")
    f["dangling"] = h5py.SoftLink("/nowhere")
    f["ext"] = h5py.ExternalLink("other.h5", "/x")
    print("iter", list(f), list(reversed(f)), list(f["g"].keys()))
    print("in", [p in f for p in ("g/h", "/g/h/", "dangling", "dangling/x", "nope", ".", "/", "")])
    print("get", f.get("g", getclass=True).__name__, f.get("soft", getlink=True).path,
          f.get("ext", getlink=True).filename, f.get("d", getlink=True, getclass=True).__name__,
          f.get("nope", "default"))
    names = []
    f.visit(names.append)
    print("visit", names, f.visit(lambda n: n if n.endswith("h") else None))
    items = []
    f.visititems(lambda n, o: items.append((n, type(o).__name__)))
    print("visititems", items)
    links = []
    f.visit_links(links.append)
    print("visit_links", links)
    print("identity", f["g"] == f["soft"], f["g"] == f["d"], hash(f["g"]) == hash(f["/g"]), len({f["g"], f["soft"]}))
    print("empty", f.create_dataset("e", data=h5py.Empty("f")).shape, f.create_dataset("n", shape=None, dtype="i").shape)
"""


@pytest.mark.parametrize("connector", ["H5PyVOL connector=memory", "H5PyVOL"])
def test_h5py_version1_paths_like_native(run_py, connector):
    """for/in/get/visit/hash reach HDF5's version-1 calls in h5py; the
    compatibility layer answers them as a native file does."""
    ours = like_native(run_py, H5PY_VERSION1_PATHS, connector)
    assert "iter ['g', 'd', 'soft', 'dangling', 'ext'] ['ext', 'dangling', 'soft', 'd', 'g'] ['h']" in ours.stdout
    assert "visit ['d', 'g', 'g/h'] g/h" in ours.stdout


NATIVE_OBJECTS_UNTOUCHED = r"""
import h5py, h5pyvol.h5py_compat as compat
from h5py._hl import group
compat.install()
assert group.Group.__iter__.__h5pyvol_original__ is not None
with h5py.File("native.h5", "w") as f:
    f.create_group("a/b")
    names = []
    f.visit(names.append)
    print(list(f), "a/b" in f, names, f.get("a", getclass=True).__name__)
"""


def test_compatibility_layer_leaves_native_files_to_h5py(run_py):
    result = run_py(NATIVE_OBJECTS_UNTOUCHED, connector=None)
    assert result.returncode == 0, result.output
    assert "['a'] True ['a', 'a/b'] Group" in result.stdout


VIRTUAL_DATASET = r"""
import h5py, numpy as np
for i in range(3):
    with h5py.File(f"src{i}.h5", "w") as f:
        f["data"] = np.arange(10) + 100 * i
layout = h5py.VirtualLayout(shape=(3, 10), dtype="i8")
for i in range(3):
    layout[i] = h5py.VirtualSource(f"src{i}.h5", "data", shape=(10,))
with h5py.File("vds.h5", "w") as f:
    f.create_virtual_dataset("v", layout, fillvalue=-1)
    half = h5py.VirtualLayout(shape=(4,), dtype="i8")
    half[0:2] = h5py.VirtualSource("src1.h5", "data", shape=(10,))[3:5]
    f.create_virtual_dataset("half", half, fillvalue=-7)
with h5py.File("vds.h5", "r") as f:
    print("v", f["v"][...].tolist(), f["v"][1, 2:5].tolist(), f["v"].is_virtual)
    print("half", f["half"][...].tolist())
"""


@pytest.mark.parametrize("connector", ["H5PyVOL connector=memory", "H5PyVOL"])
def test_virtual_datasets_read_like_native(run_py, connector):
    ours = like_native(run_py, VIRTUAL_DATASET, connector)
    assert "half [103, 104, -7, -7]" in ours.stdout


EXTERNAL_LINK_ACCESS = r"""
import h5py
with h5py.File("target.h5", "w") as f:
    f.create_group("g")
with h5py.File("main.h5", "w") as f:
    f["ext"] = h5py.ExternalLink("target.h5", "/g")
with h5py.File("main.h5", "a", libver="latest", locking=False) as f:
    print("inherits", f["ext"].file.mode, f["ext"].file.libver, f["ext"].file.id.get_access_plist().get_file_locking())
    g = f.get("ext", elink_mode="r")
    print("read-only", g.file.mode)
    try:
        g["x"] = 1
        print("wrote")
    except (ValueError, OSError) as e:
        print("refused", type(e).__name__)
"""


@pytest.mark.parametrize("connector", ["H5PyVOL connector=memory", "H5PyVOL"])
def test_external_links_open_files_as_the_link_access_list_says(run_py, connector):
    ours = like_native(run_py, EXTERNAL_LINK_ACCESS, connector)
    assert "read-only r" in ours.stdout


OBJECT_REFERENCES = r"""
import h5py
with h5py.File("refs.h5", "w") as f:
    g = f.create_group("g")
    d = f.create_dataset("d", data=[1, 2, 3])
    refs = f.create_dataset("refs", (3,), dtype=h5py.ref_dtype)
    refs[0], refs[1] = g.ref, d.ref
    f.attrs["to_d"] = d.ref
    print("deref", f[g.ref].name, f[d.ref].name, bool(refs[2]), h5py.h5r.get_obj_type(g.ref, f.id))
    regions = f.create_dataset("regions", (3,), dtype=h5py.regionref_dtype)
    regions[0], regions[1] = d.regionref[1:3], d.regionref[::2]
    print("regions", d[regions[0]].tolist(), d[regions[1]].tolist(), f[regions[1]].name, bool(regions[2]))
"""

STORED_REFERENCES = r"""
import h5py
with h5py.File("refs.h5", "r") as f:
    print("stored", f[f["refs"][0]].name, f[f["refs"][1]][...].tolist(), f[f.attrs["to_d"]].name)
    print("stored regions", f["d"][f["regions"][0]].tolist(), f["d"][f["regions"][1]].tolist())
"""


@pytest.mark.parametrize("connector", ["H5PyVOL connector=memory", "H5PyVOL"])
def test_h5py_object_references_like_native(run_py, connector):
    ours = like_native(run_py, OBJECT_REFERENCES, connector)
    assert "deref /g /d False 0" in ours.stdout
    assert "regions [2, 3] [1, 3] /d False" in ours.stdout


def test_h5py_object_references_survive_in_the_store(run_py):
    assert run_py(OBJECT_REFERENCES).returncode == 0
    again = run_py(STORED_REFERENCES)  # another process
    assert again.returncode == 0, again.output
    assert "stored /g [1, 2, 3] /d" in again.stdout
    assert "stored regions [2, 3] [1, 3]" in again.stdout


SCALE_OFFSET = r"""
import h5py, numpy as np
values = np.array([0.123456, 1.5, -2.25, 3.999999])
ints = np.array([5, 4100, 4095, 9000])
with h5py.File("so.h5", "w") as f:
    f.create_dataset("f", data=values, scaleoffset=2)
    f.create_dataset("i", data=ints, scaleoffset=12)
with h5py.File("so.h5", "r") as f:
    print("floats", np.abs(f["f"][...] - values).max() <= 0.005, (f["f"][...] != values).any())
    print("ints", f["i"][...].tolist())
"""


@pytest.mark.parametrize("connector", [None, "H5PyVOL connector=memory", "H5PyVOL"])
def test_scale_offset_loses_what_it_loses_natively(run_py, connector):
    result = run_py(SCALE_OFFSET, connector=connector)
    assert result.returncode == 0, result.output
    assert "floats True True" in result.stdout
    # 12 bits above the minimum (5): 9000 - 5 keeps its low 12 bits, and
    # 4100 - 5 = 4095 is the code HDF5 reserves for the fill value (0)
    assert f"ints [5, 0, 4095, {((9000 - 5) & 4095) + 5}]" in result.stdout


COPY_EXPANDING_REFERENCES = r"""
import h5py
with h5py.File("a.h5", "w") as f1, h5py.File("b.h5", "w") as f2:
    f1["foo"] = [1, 2, 3]
    f1["bar"] = [4, 5, 6]
    f1["foo"].attrs["bar"] = f1["bar"].ref
    f1.copy("foo", f2, "baz", expand_refs=True)
    f1.copy("/", f2, "all", expand_refs=True)
with h5py.File("b.h5", "r") as f2:
    target = f2[f2["baz"].attrs["bar"]]
    print("copied", target[...].tolist(), target.name.startswith("/~obj_pointed_by_"),
          f2[f2["all/foo"].attrs["bar"]] == f2["all/bar"], sorted(n[:5] for n in f2))
"""


@pytest.mark.parametrize("connector", [None, "H5PyVOL connector=memory", "H5PyVOL"])
def test_copy_expanding_references_like_native(run_py, connector):
    result = run_py(COPY_EXPANDING_REFERENCES, connector=connector)
    assert result.returncode == 0, result.output
    assert "copied [4, 5, 6] True True ['all', 'baz', '~obj_']" in result.stdout
