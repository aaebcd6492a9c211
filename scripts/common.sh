# Shared settings of the setup scripts; sourced, not run.
HDF5_DEB_VERSION=${H5PYVOL_HDF5_DEB_VERSION:-1.14.6+repack-2}
H5PY_VERSION=${H5PYVOL_H5PY_VERSION:-3.16.0}
CACHE=${H5PYVOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h5pyvol}
mkdir -p "$CACHE"

log() { printf '[h5pyvol] %s\n' "$*" >&2; }

# apt's, pip's and the compilers' own output goes here, not to the terminal
SETUP_LOG=${H5PYVOL_SETUP_LOG:-$CACHE/setup.log}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_update_once() {
    local stamp="$CACHE/.apt-updated"
    if [ "${1:-}" = force ] || [ ! -f "$stamp" ]; then
        as_root apt-get update -qq >>"$SETUP_LOG" 2>&1 && touch "$stamp"
    fi
}

# Install Debian packages that are not installed yet.
need_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} with apt-get (log: $SETUP_LOG)"
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >>"$SETUP_LOG" 2>&1 || { tail -20 "$SETUP_LOG" >&2; return 1; }
}

# The source index of Debian's newer suites, which name the HDF5 versions
# Debian has (apt-cache showsrc hdf5); nothing is installed from them.
hdf5_source_index() {
    local src_list=/etc/apt/sources.list.d/h5pyvol-hdf5-src.list
    need_apt dpkg-dev
    if [ ! -f "$src_list" ]; then
        as_root tee "$src_list" >/dev/null <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
LIST
        apt_update_once force
    fi
}

# Debian's hdf5 $HDF5_DEB_VERSION source package, unpacked into $1/src
# (Debian 12 ships HDF5 1.10; newer suites carry 1.14 as source).
hdf5_source() {
    local work=$1
    hdf5_source_index
    rm -rf "$work" && mkdir -p "$work"
    ( cd "$work" && apt-get source --download-only "hdf5=$HDF5_DEB_VERSION" >/dev/null \
        && dpkg-source --no-check -x ./*.dsc src >/dev/null )
}
