#!/usr/bin/env bash
# The main job: an unchanged C program and an unchanged h5py script, their
# HDF5 calls served by H5PyVOL's default connector.  Run after setup.sh or wheel_env.sh;
# argument: the virtualenv (default .venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/common.sh"
venv=${1:-$root/.venv}  # .venv-wheel (the stock h5py wheel) or .venv (HDF5 built from source)
work="$root/build/demo"
rm -rf "$work" && mkdir -p "$work"
cd "$work"

eval "$("$venv/bin/python" -m h5pyvol env)"
unset HDF5_VOL_CONNECTOR  # shown explicitly on each command below

show() { printf '\n$ %s\n' "$*"; }

cflags=$(hdf5_cc_flags "$venv")
show "cc -o c_app examples/c_app.c $cflags"
cc -o c_app "$root/examples/c_app.c" $cflags
show "HDF5_VOL_CONNECTOR=H5PyVOL ./c_app demo_c.h5"
HDF5_VOL_CONNECTOR=H5PyVOL ./c_app demo_c.h5
show "HDF5_VOL_CONNECTOR=H5PyVOL python examples/h5py_read_c.py demo_c.h5   # a second process reads it"
HDF5_VOL_CONNECTOR=H5PyVOL "$venv/bin/python" "$root/examples/h5py_read_c.py" demo_c.h5
show "HDF5_VOL_CONNECTOR=H5PyVOL python examples/h5py_app.py demo_py.h5"
HDF5_VOL_CONNECTOR=H5PyVOL "$venv/bin/python" "$root/examples/h5py_app.py" demo_py.h5
show "python -c 'zarr.open_group(\"demo_c.h5\")[\"grid\"][3]'   # the same file is a Zarr v3 store"
"$venv/bin/python" -c 'import zarr; print("zarr-python:", zarr.open_group("demo_c.h5", mode="r")["grid"][3])'
printf '\ndemo: files written through H5PyVOL (connector: %s) are directories in %s\n' \
    "$("$venv/bin/python" -c 'from h5pyvol import registry; print(registry.DEFAULT)')" "$work"
