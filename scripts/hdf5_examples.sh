#!/usr/bin/env bash
# Make HDF5's example programs (HDF5Examples/ of Debian's hdf5 source package:
# C and h5py scripts, with HDF5's expected outputs) available and print their
# directory on the last line.  Cached outside the repository by Debian
# version, so a second run takes no time.  tests/test_corpus.py runs them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

dest="$CACHE/hdf5-examples-$HDF5_DEB_VERSION"
if [ -f "$dest/.complete" ]; then
    log "HDF5 examples $HDF5_DEB_VERSION cached in $dest"
    echo "$dest"
    exit 0
fi

log "fetching HDF5's examples from Debian's hdf5 $HDF5_DEB_VERSION source package"
need_apt dpkg-dev
src_list=/etc/apt/sources.list.d/h5pyvol-hdf5-src.list
if [ ! -f "$src_list" ]; then
    # same list as scripts/hdf5.sh: Debian 12 ships HDF5 1.10, newer suites 1.14
    as_root tee "$src_list" >/dev/null <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST
    apt_update_once force
fi

work="$CACHE/build/hdf5-examples-$HDF5_DEB_VERSION"
rm -rf "$work" && mkdir -p "$work"
( cd "$work" && apt-get source --download-only "hdf5=$HDF5_DEB_VERSION" >/dev/null \
    && dpkg-source --no-check -x ./*.dsc src >/dev/null )
[ -f "$work/src/HDF5Examples/C/H5D/h5ex_d_rdwr.c" ] \
    || { log "no HDF5Examples/ in the hdf5 $HDF5_DEB_VERSION source package"; exit 1; }
rm -rf "$dest" && mv "$work/src/HDF5Examples" "$dest"
touch "$dest/.complete"
rm -rf "$work"
log "HDF5 examples in $dest"
echo "$dest"
