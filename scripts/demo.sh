#!/usr/bin/env bash
# The main job: an unchanged C program and an unchanged h5py script, their
# HDF5 calls served by H5PyVOL's default connector.  Run after setup.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
work="$root/build/demo"
mkdir -p "$work"
cd "$work"

eval "$("$venv/bin/python" -m h5pyvol env)"
unset HDF5_VOL_CONNECTOR  # shown explicitly on each command below

show() { printf '\n$ %s\n' "$*"; }

show "h5cc -o c_app examples/c_app.c"
h5cc -o c_app "$root/examples/c_app.c" -Wl,-rpath,"$(dirname "$(dirname "$(command -v h5cc)")")/lib"
show "HDF5_VOL_CONNECTOR=H5PyVOL ./c_app demo_c.h5"
HDF5_VOL_CONNECTOR=H5PyVOL ./c_app demo_c.h5
show "HDF5_VOL_CONNECTOR=H5PyVOL python examples/h5py_app.py demo_py.h5"
HDF5_VOL_CONNECTOR=H5PyVOL "$venv/bin/python" "$root/examples/h5py_app.py" demo_py.h5
printf '\ndemo: both programs ran on H5PyVOL (connector: %s)\n' \
    "$("$venv/bin/python" -c 'from h5pyvol import registry; print(registry.DEFAULT)')"
