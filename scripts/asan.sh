#!/usr/bin/env bash
# The plugin built with AddressSanitizer (and LeakSanitizer), then the C
# tests, HDF5's h5_api_test and the error-path tests run through it:
#   bash scripts/asan.sh [pytest args]        (README, Reliability)
# Default: the C host tests, h5_api_test on every connector, the error and
# bad-input tests.  Exit status 1 when any report names an error.
# The build goes to a virtualenv of its own that sees the project's .venv
# (numpy, h5py) through a .pth file, so the project's own .venv keeps its
# plain build.  Leaks are reported for the plugin only: the suppressions
# (tests/sanitizers/lsan.supp) name CPython's and HDF5's own allocations.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/common.sh"
# the project's own setup once (it reinstalls h5pyvol into .venv: not under running tests)
[ -x "$root/.venv/bin/python" ] || bash "$root/scripts/setup.sh"
work=${H5PYVOL_ASAN_DIR:-$root/build/asan}
venv=$work/venv
site_of() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
if [ ! -x "$venv/bin/python" ]; then
    "$root/.venv/bin/python" -m venv "$venv"
    site_of "$root/.venv" > "$(site_of "$venv")/h5pyvol-project-venv.pth"
fi
log "building the plugin with -fsanitize=address (log: $work/build.log)"
PKG_CONFIG_PATH="$CACHE/hdf5-$HDF5_DEB_VERSION/lib/pkgconfig" PATH="$root/.venv/bin:$PATH" \
    "$venv/bin/python" -m pip install --no-build-isolation --no-deps --force-reinstall "$root" \
    -Cbuild-dir="$work/meson" -Csetup-args=-Db_sanitize=address -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dbuildtype=debugoptimized > "$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; exit 1; }
libasan=$(gcc -print-file-name=libasan.so)
log "running the tests under AddressSanitizer (reports: $work/reports)"
rm -rf "$work/reports" && mkdir -p "$work/reports"
cd "$root"
# every process gets the runtime first; each writes its report to a file of its own
export LD_PRELOAD=$libasan
export ASAN_OPTIONS="detect_leaks=1:log_path=$work/reports/asan:abort_on_error=0:halt_on_error=0:detect_odr_violation=0"
# the runtime refuses RTLD_DEEPBIND, which pycryptodome (minio's) asks for unless told not to
export PYCRYPTODOME_DISABLE_DEEPBIND=1
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
tests=(tests/test_c_host.py tests/test_api_conformance.py tests/test_errors.py tests/reliability/test_bad_config.py
       tests/reliability/test_bad_connectors.py tests/test_real_programs.py)
[ $# -gt 0 ] && tests=("$@")
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider "${tests[@]}" || status=$?
unset LD_PRELOAD
reports=("$work"/reports/asan.*)
if [ -e "${reports[0]}" ]; then
    log "AddressSanitizer reports from ${#reports[@]} processes:"
    grep -h "^==[0-9]*==ERROR\|^SUMMARY" "${reports[@]}" | sed 's/^==[0-9]*==//' | sort | uniq -c | sort -rn >&2
    grep -l "h5pyvol_bridge\|libh5pyvol" "${reports[@]}" >&2 && status=1
    grep -q "ERROR: AddressSanitizer" "${reports[@]}" && status=1
else
    log "AddressSanitizer: no report from any process"
fi
exit $status
