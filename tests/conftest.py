"""Shared fixtures: the installed plugin, HDF5's compiler wrapper, and
subprocess runners for C programs and Python scripts under H5PyVOL.

Every program runs in a subprocess: a crash there is a failed test, not a
dead test run.
"""
from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import h5pyvol
from h5pyvol.paths import hdf5_prefix
from servers import SECRETS

TESTS = Path(__file__).parent
ROOT = TESTS.parent
CONNECTORS = TESTS / "connectors"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def vol_env(connector: str | None = "H5PyVOL", *, pythonpath: bool = True, **extra) -> dict:
    """A clean environment for a program using H5PyVOL.

    No virtualenv is active in it: the C host must find the package on its
    own.  ``connector`` None leaves HDF5_VOL_CONNECTOR unset (native HDF5).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HDF5_", "H5PyVOL", "H5PYVOL", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(sys.prefix))
    env["HDF5_PLUGIN_PATH"] = h5pyvol.plugin_dir()
    env["LD_LIBRARY_PATH"] = os.path.join(hdf5_prefix(), "lib")
    if connector is not None:
        env["HDF5_VOL_CONNECTOR"] = connector
    if pythonpath:
        env["PYTHONPATH"] = str(CONNECTORS)
    env.update(extra)
    return env


def run(cmd, env, cwd, timeout=120) -> Result:
    """Runs ``cmd`` to its end.  One that outlives ``timeout`` fails the test
    with the stacks of every thread of its Python processes and of theirs
    (faulthandler, on the SIGABRT sent to its process group) and the output
    it gave, so that a hang names where it hangs."""
    cmd = [str(c) for c in cmd]
    where = f"the output of {' '.join(cmd)[:200]}"
    proc = subprocess.Popen(cmd, env={"PYTHONFAULTHANDLER": "1", **env}, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        hung = True
    if hung:
        # it may have ended (or crashed) while processes it started keep its output pipes open
        ended = proc.poll()
        _signal_group(proc.pid, signal.SIGABRT)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        _signal_group(proc.pid, signal.SIGKILL)  # children it left behind
        assert_no_secret(stdout + stderr, where)
        state = "did not end" if ended is None else f"ended with {ended}, but processes it started did not"
        pytest.fail(f"{' '.join(cmd)[:300]} {state} within {timeout} s; their stacks and output:\n"
                    f"{stdout[-5000:]}\n{stderr[-30000:]}", pytrace=False)
    assert_no_secret(stdout + stderr, where)
    return Result(proc.returncode, stdout, stderr)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def assert_no_secret(text: str, where: str) -> None:
    """No secret of the test servers (S3 secret keys, Ceph keyring keys) in
    ``text``: every program's output passes here, and every test's report
    (pytest_runtest_makereport below)."""
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"a secret ({len(leaked[0])} characters, ending ...{leaked[0][-3:]}) appears in {where}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" and not report.failed:  # the sections accumulate: one look at them
        return
    text = "".join(content for _, content in report.sections) + (report.longreprtext or "")
    try:
        assert_no_secret(text, f"the output of {item.nodeid}")
    except AssertionError as leak:
        report.outcome, report.longrepr = "failed", str(leak)


def api_program_path(name: str) -> str:
    """HDF5's API test programs (h5_api_test, ...), built by scripts/hdf5.sh."""
    path = os.path.join(hdf5_prefix(), "bin", name)
    if not os.path.exists(path):
        pytest.fail(f"{name} is not installed in {hdf5_prefix()}/bin (scripts/hdf5.sh builds it)")
    return path


def assert_no_crash(result: Result):
    """A negative return code is a signal: the host crashed."""
    assert result.returncode >= 0, f"killed by signal {-result.returncode}:\n{result.output}"


@pytest.fixture(scope="session")
def examples() -> Path:
    """HDF5's example programs (HDF5Examples/ of Debian's hdf5 source
    package, scripts/hdf5_examples.sh); fails, never skips, without them."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "hdf5_examples.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, f"scripts/hdf5_examples.sh failed:\n{proc.stderr}"
    path = Path(proc.stdout.strip().splitlines()[-1])
    for example in ("C/H5D/h5ex_d_rdwr.c", "C/H5T/h5ex_t_cmpd.c", "PYTHON/h5_crtdat.py"):
        assert (path / example).exists(), f"no {example} in {path}"
    return path


@pytest.fixture(scope="session")
def build_c(tmp_path_factory):
    """Compiles a C program from tests/c or examples with HDF5's h5cc; cached per session."""
    out = tmp_path_factory.mktemp("cbin")
    built = {}
    h5cc = os.path.join(hdf5_prefix(), "bin", "h5cc")

    def build(source: str) -> Path:
        if source not in built:
            src = (ROOT / source) if "/" in source else (TESTS / "c" / source)
            exe = out / src.stem
            # the compiler runs without the sanitizer runtime scripts/asan.sh preloads
            subprocess.run([h5cc, "-o", str(exe), str(src), "-ldl",
                            f"-Wl,-rpath,{os.path.join(hdf5_prefix(), 'lib')}"],
                           check=True, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
            built[source] = exe
        return built[source]

    return build


@pytest.fixture
def run_c(build_c, tmp_path):
    """run_c(source, *args, connector=..., **env) -> Result, in tmp_path."""
    def runner(source, *args, connector="H5PyVOL", cwd=None, **extra) -> Result:
        exe = build_c(source)
        # native HDF5 writes files where the store writes directories: keep them apart
        cwd = cwd or tmp_path / ("native" if connector is None else "vol")
        cwd.mkdir(exist_ok=True)
        result = run([exe, *args], vol_env(connector, **extra), cwd)
        assert_no_crash(result)
        return result
    return runner


@pytest.fixture
def run_py(tmp_path):
    """run_py(code, connector=..., python=..., **env) -> Result: a Python script in tmp_path."""
    def runner(code, *args, connector="H5PyVOL", python=sys.executable, cwd=None, **extra) -> Result:
        script = tmp_path / "script.py"
        script.write_text(code)
        cwd = cwd or tmp_path / ("native" if connector is None else "vol")
        cwd.mkdir(exist_ok=True)
        result = run([python, script, *args], vol_env(connector, **extra), cwd)
        assert_no_crash(result)
        return result
    return runner


# The stock h5py wheel's virtualenv (issue 16; tests/test_h5py_wheel.py,
# and the S3 and RADOS tests)
@pytest.fixture(scope="session")
def wheel_venv() -> Path:
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "wheel_env.sh")], capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, f"scripts/wheel_env.sh failed:\n{proc.stderr[-3000:]}"
    return Path(proc.stdout.strip().splitlines()[-1])


def wheel_env(venv: Path, connector: str | None = "H5PyVOL", **extra) -> dict:
    """vol_env for the wheel's virtualenv: its plugin, and no path to the
    source-built HDF5 1.14 (which must never be loaded here)."""
    env = vol_env(connector, **extra)
    env.pop("LD_LIBRARY_PATH", None)
    env["HDF5_PLUGIN_PATH"] = _plugin_dir_of(venv)
    return env


@functools.lru_cache
def _plugin_dir_of(venv: Path) -> str:
    return subprocess.run([python_of(venv), "-c", "import h5pyvol; print(h5pyvol.plugin_dir())"],
                          capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}).stdout.strip()


def python_of(venv: Path) -> str:
    return str(venv / "bin" / "python")


# one run of each corpus program per session, shared by test_corpus and test_copy
from corpus_runs import corpus  # noqa: E402,F401
