"""H5PyVOL in a process of the stock h5py wheel, which bundles HDF5 2.0
(issue 16).  scripts/wheel_env.sh makes .venv-wheel: the wheel from PyPI,
and the plugin built against the wheel's own libhdf5 with HDF5 2.x headers
from Debian.  An unmodified h5py script then writes through H5PyVOL, reads
back what native HDF5 2.0 gives, and exactly one libhdf5 is mapped.  The
S3 and RADOS cases are in test_s3.py and test_rados.py (their servers)."""
from __future__ import annotations

import os

import store_scenarios as scenario
from conftest import python_of, wheel_env

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
