"""h5py's own test suite through H5PyVOL (issue 5's yardstick).

The suite runs three times in subprocesses: natively (the baseline, same
machine, same run), with the in-memory connector and with the directory
store.  A test that passes natively and fails through a connector must be
listed in h5py_suite_exceptions.txt with its reason; anything else fails
here.  A listed test that passes again is reported, so the list only
shrinks.  ``python tests/test_h5py_suite.py`` prints the same figures
without pytest.
"""
from __future__ import annotations

import functools
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import TESTS, assert_no_crash, python_of, run, vol_env, wheel_env

EXCEPTIONS_FILE = TESTS / "h5py_suite_exceptions.txt"
CONNECTORS = {"memory": "H5PyVOL connector=memory", "store": "H5PyVOL connector=store"}
SUITE_TIMEOUT = 1200  # natively about 45 s here; a hang fails the test instead of CI's budget


@dataclass
class SuiteRun:
    passed: set
    failed: dict  # test id -> first line of the failure
    output: str


@dataclass(frozen=True)
class Exception_:
    test: str
    scope: str   # "all", "memory" or "store"
    reason: str


def suite_test_id(case: ET.Element) -> str:
    return re.sub(r"^(h5py\.)?tests\.", "", case.get("classname")) + "::" + case.get("name")


def run_suite(connector: str | None, workdir: Path, python: str = sys.executable, env_of=vol_env) -> SuiteRun:
    """The suite in ``python``'s environment (the source build's, or the
    stock wheel's with ``env_of=wheel_env`` bound to its virtualenv)."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "junit.xml"
    result = run([python, "-m", "pytest", "--pyargs", "h5py", "-q", "-p", "no:cacheprovider",
                  f"--junitxml={report}"], env_of(connector), workdir, timeout=SUITE_TIMEOUT)
    assert_no_crash(result)
    assert report.exists(), f"h5py's suite wrote no report:\n{result.output[-5000:]}"
    passed, failed = set(), {}
    for case in ET.parse(report).iter("testcase"):
        problems = case.findall("failure") + case.findall("error")
        if problems:
            failed[suite_test_id(case)] = (problems[0].get("message") or "").split("\n")[0][:200]
        elif not case.findall("skipped"):
            passed.add(suite_test_id(case))
    return SuiteRun(passed, failed, result.output)


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[Exception_]:
    """Lines: ``<test id>  <all|memory|store|wheel>  -- <reason>``; # comments.
    ``wheel``: only with the stock h5py wheel (HDF5 2.0)."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"(\S+)\s+(all|memory|store|wheel)\s+--\s+(.+)", line)
        if not match:
            raise ValueError(f"{path.name}:{number}: expected '<test> <all|memory|store|wheel> -- <reason>': "
                             f"{line!r}")
        entries.append(Exception_(*match.groups()))
    return entries


def excused(exceptions: list[Exception_], connector: str, wheel: bool = False) -> dict[str, str]:
    scopes = ("all", connector) + (("wheel",) if wheel else ())
    return {e.test: e.reason for e in exceptions if e.scope in scopes}


@pytest.fixture(scope="module")
def native_suite(tmp_path_factory) -> SuiteRun:
    return run_suite(None, tmp_path_factory.mktemp("native"))


def test_exceptions_file_is_well_formed():
    entries = load_exceptions()
    assert entries
    assert all(len(e.reason) > 15 for e in entries), "every exception needs a reason"
    tests = [(e.test, e.scope) for e in entries]
    assert len(tests) == len(set(tests)), "a test is listed twice"


@pytest.fixture(scope="module")
def native_wheel_suite(wheel_venv, tmp_path_factory) -> SuiteRun:
    return run_suite(None, tmp_path_factory.mktemp("native-wheel"), python_of(wheel_venv),
                     functools.partial(wheel_env, wheel_venv))


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_h5py_suite_through_h5pyvol(name, native_suite, tmp_path_factory, capsys):
    ours = run_suite(CONNECTORS[name], tmp_path_factory.mktemp(name))
    compare(name, native_suite, ours, excused(load_exceptions(), name), capsys)


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_h5py_suite_of_the_stock_wheel_through_h5pyvol(name, native_wheel_suite, wheel_venv, tmp_path_factory,
                                                       capsys):
    """The h5py wheel from PyPI with its HDF5 2.0 (issue 16): compared with
    the same wheel natively, in the same run."""
    ours = run_suite(CONNECTORS[name], tmp_path_factory.mktemp(f"wheel-{name}"), python_of(wheel_venv),
                     functools.partial(wheel_env, wheel_venv))
    compare(f"wheel, {name}", native_wheel_suite, ours, excused(load_exceptions(), name, wheel=True), capsys)


def compare(name: str, native_suite: SuiteRun, ours: SuiteRun, listed: dict, capsys) -> None:
    lost = {t: ours.failed.get(t, "not run") for t in native_suite.passed - ours.passed}
    unexplained = {t: why for t, why in lost.items() if t not in listed}
    fixed = sorted(t for t in listed if t in ours.passed)
    share = len(native_suite.passed & ours.passed) / len(native_suite.passed)
    with capsys.disabled():
        print(f"\n[h5py suite, {name}] native passed {len(native_suite.passed)}, "
              f"through H5PyVOL {len(native_suite.passed & ours.passed)} of them ({share:.1%}); "
              f"listed exceptions failing {len(lost) - len(unexplained)}"
              + (f"; listed but passing now: {', '.join(fixed)}" if fixed else ""))
    # an interpreter error that did not fail a test (a ctypes callback, a
    # destructor) is still an error
    for leak in ("Exception ignored", "compatibility layer not installed", "Fatal Python error"):
        assert leak not in ours.output, f"{leak!r} in h5py's suite output:\n{ours.output[-5000:]}"
    assert not unexplained, "tests that pass natively fail through H5PyVOL:\n" + "\n".join(
        f"  {t}: {why}" for t, why in sorted(unexplained.items()))


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        base = run_suite(None, Path(tmp) / "native")
        for key, connector in CONNECTORS.items():
            ours = run_suite(connector, Path(tmp) / key)
            kept = len(base.passed & ours.passed)
            print(f"{key}: {kept}/{len(base.passed)} of the natively passing tests pass "
                  f"({kept / len(base.passed):.1%})")
            for test in sorted(base.passed - ours.passed):
                print(f"  {test}  -- {ours.failed.get(test, 'not run')}")
