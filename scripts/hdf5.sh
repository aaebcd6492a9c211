#!/usr/bin/env bash
# Make an HDF5 >= 1.14 available and print its install prefix on the last line.
# Uses the one pkg-config finds; otherwise builds Debian's source package into
# the cache (keyed by the Debian version), so a second run takes no time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if pc_version=$(pkg-config --modversion hdf5 2>/dev/null) && version_ge "$pc_version" 1.14 \
        && [ "${H5PYVOL_BUILD_HDF5:-0}" != 1 ]; then
    log "using HDF5 $pc_version found by pkg-config"
    pkg-config --variable=prefix hdf5
    exit 0
fi

prefix="$CACHE/hdf5-$HDF5_DEB_VERSION"
if [ -f "$prefix/.complete" ]; then
    log "HDF5 $HDF5_DEB_VERSION cached in $prefix"
    echo "$prefix"
    exit 0
fi

log "building HDF5 $HDF5_DEB_VERSION from Debian's source package (about 5 minutes; log: $SETUP_LOG)"
need_apt cmake ninja-build zlib1g-dev pkg-config
work="$CACHE/build/hdf5-$HDF5_DEB_VERSION"
hdf5_source "$work"
step "configuring HDF5 (CMake)" cmake -S "$work/src" -B "$work/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF \
    -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_TOOLS=ON \
    -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_CPP_LIB=OFF -DHDF5_BUILD_JAVA=OFF \
    -DHDF5_BUILD_EXAMPLES=OFF -DHDF5_BUILD_UTILS=OFF \
    -DHDF5_ENABLE_Z_LIB_SUPPORT=ON -DHDF5_ENABLE_SZIP_SUPPORT=OFF \
    -DBUILD_TESTING=ON -DHDF5_TEST_API=ON -DHDF5_TEST_API_INSTALL=ON \
    -DHDF5_TEST_SERIAL=ON -DHDF5_TEST_TOOLS=OFF -DHDF5_TEST_SWMR=OFF \
    -DHDF5_TEST_PARALLEL=OFF -DHDF5_TEST_VFD=OFF -DHDF5_TEST_PASSTHROUGH_VOL=OFF \
    -DCMAKE_INSTALL_RPATH="$prefix/lib"
targets=(hdf5-shared hdf5_hl-shared h5dump h5ls h5diff h5stat h5copy h5repack h5_api_test h5_api_test_testhdf5)
step "compiling HDF5, its tools and its API tests" cmake --build "$work/build" -j"$(nproc)" --target "${targets[@]}"
if ! cmake --install "$work/build" >>"$SETUP_LOG" 2>&1; then
    # Install stops at the first target not built; build everything then.
    step "compiling the rest of HDF5 (install needs every target)" cmake --build "$work/build" -j"$(nproc)"
    step "installing HDF5 into $prefix" cmake --install "$work/build"
fi
touch "$prefix/.complete"
rm -rf "$work"
log "HDF5 installed in $prefix"
echo "$prefix"
