#!/usr/bin/env bash
# H5PyVOL for h5py as people already have it: the stock wheel from PyPI,
# which bundles its own HDF5 2.0 (h5py.libs/libhdf5-<hash>.so.320.0.0).
# Makes a virtualenv (default .venv-wheel, or $1) with that wheel and builds
# the plugin into it against that very library, so that one libhdf5 serves
# h5py and the plugin.  No HDF5 or h5py compile: HDF5 2.x headers come from
# Debian's libhdf5-dev package (sid; bookworm's HDF5 is 1.10), unpacked into
# the cache, keyed by version.  Prints the virtualenv's path on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/common.sh"

venv=${1:-$root/.venv-wheel}
python=${H5PYVOL_PYTHON:-python3}
log "setting up $venv with the stock h5py $H5PY_VERSION wheel (details: $SETUP_LOG)"
need_apt pkg-config gcc dpkg-dev
need_python_dev "$python"

# HDF5 2.x headers: the newest 2.x libhdf5-dev Debian's mirror holds.  The
# source index (common.sh adds sid's deb-src) names the versions; the binary
# packages of a version share its pool directory.
headers=""
for dir in "$CACHE"/hdf5-headers-2.*; do
    [ -f "$dir/.complete" ] && headers=$dir
done
if [ -z "$headers" ]; then
    hdf5_source_index
    mirror=http://deb.debian.org/debian/pool/main/h/hdf5
    for version in $(apt-cache showsrc hdf5 2>>"$SETUP_LOG" | sed -n 's/^Version: \(2\..*\)/\1/p' | sort -rV); do
        deb="libhdf5-dev_${version}_$(dpkg --print-architecture).deb"
        target="$CACHE/hdf5-headers-$version"
        rm -rf "$target.tmp" && mkdir -p "$target.tmp"
        log "fetching HDF5 $version's headers ($deb)"
        if /usr/lib/apt/apt-helper download-file "$mirror/${deb//+/%2b}" "$target.tmp/$deb" >>"$SETUP_LOG" 2>&1; then
            dpkg-deb -x "$target.tmp/$deb" "$target.tmp/root"
            mkdir -p "$target.tmp/include"
            cp -r "$target.tmp/root/usr/include/hdf5/serial/." "$target.tmp/include/"
            rm -rf "$target.tmp/root" "$target.tmp/$deb"
            touch "$target.tmp/.complete"
            rm -rf "$target" && mv "$target.tmp" "$target"
            headers=$target
            break
        fi
        log "not on the mirror: $deb"
    done
    [ -n "$headers" ] || { log "no HDF5 2.x libhdf5-dev package found on Debian's mirror"; exit 1; }
fi

if [ ! -x "$venv/bin/python" ]; then
    step "creating $venv" "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
stamp="$venv/.deps-$(sha1sum "$root/pyproject.toml" "$here/wheel_env.sh" "$here/common.sh" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    step "installing the stock h5py $H5PY_VERSION wheel and the Python dependencies into $venv" \
        "${pip[@]}" install --only-binary=h5py "h5py==$H5PY_VERSION" "${PYTHON_DEPS[@]}"
    touch "$stamp"
fi

# The wheel's own library, by its file name: the plugin's DT_NEEDED names it,
# so in an h5py process the loader finds it already mapped
libs=$("$venv/bin/python" -c 'import h5py, os; print(os.path.join(os.path.dirname(os.path.dirname(h5py.__file__)), "h5py.libs"))')
lib=$(cd "$libs" && ls libhdf5-*.so.* | grep -v '_hl' | head -1)
wheel_hdf5=$("$venv/bin/python" -c 'import h5py; print(h5py.version.hdf5_version)')
pc="$venv/lib/pkgconfig"
mkdir -p "$pc"
cat >"$pc/hdf5.pc" <<PC
prefix=$headers
includedir=$headers/include
libdir=$libs
Name: hdf5
Description: the HDF5 $wheel_hdf5 of the h5py $H5PY_VERSION wheel, with the headers of Debian's $(basename "$headers")
Version: $wheel_hdf5
Cflags: -I\${includedir}
Libs: -L\${libdir} -l:$lib
PC

step "building and installing h5pyvol against the wheel's HDF5 $wheel_hdf5 ($lib)" \
    env PKG_CONFIG_PATH="$pc" PATH="$venv/bin:$PATH" "${pip[@]}" install --no-build-isolation --no-deps "$root" \
    -Cbuild-dir="$root/build/meson-wheel"
install_backends "$venv"
log "ready: $venv (h5py $H5PY_VERSION wheel, HDF5 $wheel_hdf5)"
echo "$venv"
