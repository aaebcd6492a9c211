#!/usr/bin/env bash
# The demo with its files in an S3 bucket: an unmodified C program writes
# s3://<bucket>/demo/demo_c.h5, a second process reads it with h5py, an h5py
# script writes another, zarr-python reads the bucket.
#
# The server is the one the usual variables name (AWS_ENDPOINT_URL_S3,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; docker/compose.yml sets them for
# a MinIO container).  Without AWS_ENDPOINT_URL_S3 a SeaweedFS server is
# started on 127.0.0.1 for the run.  Run scripts/setup.sh or wheel_env.sh first
# (or use `bash scripts/run demo-s3`); argument: the virtualenv (default .venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/common.sh"
venv=${1:-$root/.venv}  # .venv-wheel (the stock h5py wheel) or .venv (HDF5 built from source)
work="$root/build/demo-s3"
bucket=${H5PYVOL_DEMO_BUCKET:-h5pyvol-demo}
rm -rf "$work" && mkdir -p "$work"
cd "$work"

if [ -z "${AWS_ENDPOINT_URL_S3:-}${AWS_ENDPOINT_URL:-}" ]; then
    "$venv/bin/python" "$root/tests/servers/seaweedfs.py" "$work/seaweedfs" "$work/s3.env" &
    server=$!
    trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
    for _ in $(seq 600); do [ -s "$work/s3.env" ] && break; kill -0 $server || exit 1; sleep 0.1; done
    # shellcheck disable=SC1091
    source "$work/s3.env"
    echo "demo: started SeaweedFS at $AWS_ENDPOINT_URL_S3"
fi

eval "$("$venv/bin/python" -m h5pyvol env)"
unset HDF5_VOL_CONNECTOR  # shown explicitly on each command below
show() { printf '\n$ %s\n' "$*"; }

url="s3://$bucket/demo"
cc -o c_app "$root/examples/c_app.c" $(hdf5_cc_flags "$venv")
show "HDF5_VOL_CONNECTOR='H5PyVOL root=$url' ./c_app demo_c.h5   # unmodified C program"
HDF5_VOL_CONNECTOR="H5PyVOL root=$url" ./c_app demo_c.h5
show "HDF5_VOL_CONNECTOR=H5PyVOL python examples/h5py_read_c.py $url/demo_c.h5"
HDF5_VOL_CONNECTOR=H5PyVOL "$venv/bin/python" "$root/examples/h5py_read_c.py" "$url/demo_c.h5"
show "HDF5_VOL_CONNECTOR=H5PyVOL python examples/h5py_app.py $url/demo_py.h5"
HDF5_VOL_CONNECTOR=H5PyVOL "$venv/bin/python" "$root/examples/h5py_app.py" "$url/demo_py.h5"
show "zarr-python reads $url/demo_c.h5 straight from the bucket"
"$venv/bin/python" - "$bucket" <<'PY'
import os, sys, zarr
from obstore.store import S3Store
from zarr.storage import ObjectStore
endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ["AWS_ENDPOINT_URL"]
store = S3Store(sys.argv[1], prefix="demo/demo_c.h5", endpoint=endpoint,
                access_key_id=os.environ["AWS_ACCESS_KEY_ID"], secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                region=os.environ.get("AWS_REGION", "us-east-1"), client_options={"allow_http": True})
print("zarr-python:", zarr.open_group(store=ObjectStore(store, read_only=True), mode="r")["grid"][3])
PY
printf '\ndemo: files written through H5PyVOL are objects under %s\n' "$url/"
