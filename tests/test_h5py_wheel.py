"""H5PyVOL in a process of the stock h5py wheel, which bundles HDF5 2.0
(issue 16).  scripts/wheel_env.sh makes .venv-wheel: the wheel from PyPI,
and the plugin built against the wheel's own libhdf5 with HDF5 2.x headers
from Debian.  An unmodified h5py script then writes through H5PyVOL, reads
back what native HDF5 2.0 gives, and exactly one libhdf5 is mapped.  The
S3 and RADOS cases are in test_s3.py and test_rados.py (their servers)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import store_scenarios as scenario
from conftest import ROOT, TESTS, assert_no_crash, python_of, run, vol_env, wheel_env

MAPPED = r"""
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = np.arange(5)
with open("/proc/self/maps") as maps:
    libraries = sorted({line.split()[-1] for line in maps if "libhdf5" in line})
print(h5py.version.hdf5_version)
print("\n".join(libraries))
"""


def test_an_h5py_script_of_the_wheel_reads_back_what_native_hdf5_2_gives(wheel_venv, tmp_path):
    scenario.h5py_round_trip_like_native("run.h5", wheel_env(wheel_venv), tmp_path, python_of(wheel_venv),
                                         native_env=wheel_env(wheel_venv, None))
    assert (tmp_path / "run.h5" / "zarr.json").is_file()  # the directory store's, not an HDF5 file


def test_exactly_one_libhdf5_is_mapped_and_it_is_the_wheels(wheel_venv, tmp_path):
    result = scenario.python(MAPPED, wheel_env(wheel_venv), tmp_path, "mapped.h5", executable=python_of(wheel_venv))
    assert result.returncode == 0, result.output
    version, *libraries = result.stdout.split()
    assert version.startswith("2."), version
    core = [lib for lib in libraries if "libhdf5_hl" not in os.path.basename(lib)]
    assert len(core) == 1 and "/h5py.libs/libhdf5-" in core[0], libraries
    assert (tmp_path / "mapped.h5" / "zarr.json").is_file()


COMPLEX_WRITE = r"""
import sys, h5py, numpy as np
from h5py import h5t
values = (np.arange(6) + 1j * np.arange(6, 12)).astype("<c16")
with h5py.File(sys.argv[1], "w") as f:
    ds = f.create_dataset("z", (6,), dtype=h5py.Datatype(h5t.COMPLEX_IEEE_F64LE))
    ds[...] = values
    ds.attrs.create("c", np.array(1.5 - 2j, "<c8"), dtype=h5py.Datatype(h5t.COMPLEX_IEEE_F32BE))
"""

COMPLEX_READ = r"""
import sys, h5py, numpy as np
from h5py import h5t
with h5py.File(sys.argv[1], "r") as f:
    ds = f["z"]
    print(type(ds.id.get_type()).__name__, type(ds.attrs.get_id("c").get_type()).__name__,
          ds.attrs.get_id("c").get_type().get_order() == h5t.ORDER_BE)
    print(ds[...].tolist(), complex(ds.attrs["c"]))
"""


def test_hdf5_2_complex_numbers_round_trip_and_zarr_reads_them(wheel_venv, tmp_path):
    """H5T_COMPLEX (HDF5 2.0): a dataset and a big-endian attribute through
    the store, read back as native HDF5 2.0 reads its own file; zarr-python
    reads the dataset as complex128.  The HDF5 1.14 build refuses the type
    by name instead of reading other values."""
    python = python_of(wheel_venv)
    for env, name in [(wheel_env(wheel_venv, None), "native.h5"), (wheel_env(wheel_venv), "store.h5")]:
        written = scenario.python(COMPLEX_WRITE, env, tmp_path, name, executable=python)
        assert written.returncode == 0, written.output
    native = scenario.python(COMPLEX_READ, wheel_env(wheel_venv, None), tmp_path, "native.h5", executable=python)
    ours = scenario.python(COMPLEX_READ, wheel_env(wheel_venv), tmp_path, "store.h5", executable=python)
    assert ours.returncode == 0 and native.returncode == 0, ours.output + native.output
    assert ours.stdout == native.stdout and ours.stdout.startswith("TypeComplexID TypeComplexID True"), ours.stdout
    zarr_read = scenario.python("import sys, zarr\na = zarr.open_array(sys.argv[1], path='z', mode='r')\n"
                                "print(a.dtype, a[...].tolist())", wheel_env(wheel_venv, None), tmp_path,
                                str(tmp_path / "store.h5"), executable=python)
    assert zarr_read.returncode == 0, zarr_read.output
    assert zarr_read.stdout.strip() == f"complex128 {[complex(i, i + 6) for i in range(6)]}"
    refused = scenario.python("import sys, h5py\nh5py.File(sys.argv[1], 'r')['z'][...]", vol_env(), tmp_path,
                              "store.h5")
    assert refused.returncode != 0 and "need HDF5 2.0" in refused.output, refused.output


def build_against_the_wheel(venv, source: Path, out: Path) -> Path:
    """A C program compiled with the HDF5 2.x headers and linked to the
    wheel's libhdf5 (HDF5 2.0), as wheel_env.sh's pkg-config file says."""
    env = {**os.environ, "PKG_CONFIG_PATH": str(venv / "lib" / "pkgconfig")}
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hdf5"], env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "hdf5"], env=env, capture_output=True, text=True,
                            check=True).stdout.strip()
    exe = out / source.stem
    subprocess.run(["gcc", "-o", str(exe), str(source), *flags, f"-Wl,-rpath,{libdir}", "-ldl"], check=True,
                   capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    return exe


def test_c_programs_built_against_hdf5_2_work_as_with_1_14(wheel_venv, tmp_path):
    """examples/c_app.c and tests/c/objects_app.c built against HDF5 2.0:
    through H5PyVOL they print what they print natively on the same HDF5."""
    c_app = build_against_the_wheel(wheel_venv, ROOT / "examples" / "c_app.c", tmp_path)
    result = run([c_app, "demo.h5"], wheel_env(wheel_venv, pythonpath=False), tmp_path)
    assert_no_crash(result)
    assert result.returncode == 0 and "grid[3][5] = 305" in result.stdout, result.output
    assert (tmp_path / "demo.h5" / "zarr.json").is_file()
    objects = build_against_the_wheel(wheel_venv, TESTS / "c" / "objects_app.c", tmp_path)
    (tmp_path / "native").mkdir()
    native = run([objects], wheel_env(wheel_venv, None, HDF5_USE_FILE_LOCKING="FALSE"), tmp_path / "native")
    ours = run([objects], wheel_env(wheel_venv), tmp_path)
    assert_no_crash(ours)
    assert native.returncode == 0 and ours.returncode == 0, native.output + ours.output
    assert ours.stdout == native.stdout


def test_the_readme_demo_runs_with_the_stock_wheel(wheel_venv, tmp_path):
    """scripts/demo.sh as `bash scripts/run demo` runs it by default: the C
    program compiled against the wheel's HDF5 2.0, h5py scripts of the wheel,
    zarr-python reading the store; a C process and a Python process see one
    file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_") and k != "LD_LIBRARY_PATH"}
    result = run(["bash", ROOT / "scripts" / "demo.sh", wheel_venv], env, tmp_path, timeout=300)
    assert_no_crash(result)
    assert result.returncode == 0, result.output
    assert str(wheel_venv / "lib") in result.stdout  # the C program was linked to the wheel's library
    assert "h5py_read_c: demo_c.h5 written by the C program: grid (4, 6) grid[3][5] = 305" in result.stdout
    assert "zarr-python: [300 301 302 303 304 305]" in result.stdout
    assert "(connector: store)" in result.stdout
