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
work="$CACHE/build/hdf5-examples-$HDF5_DEB_VERSION"
hdf5_source "$work"
[ -f "$work/src/HDF5Examples/C/H5D/h5ex_d_rdwr.c" ] \
    || { log "no HDF5Examples/ in the hdf5 $HDF5_DEB_VERSION source package"; exit 1; }
rm -rf "$dest" && mv "$work/src/HDF5Examples" "$dest"
touch "$dest/.complete"
rm -rf "$work"
log "HDF5 examples in $dest"
echo "$dest"
