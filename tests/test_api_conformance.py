"""HDF5's own VOL conformance suite (test/API of HDF5 1.14) against H5PyVOL.

Native HDF5 1.14.6 on this machine: 1074 of 1135 passed, 0 not passed, 63
skipped.  H5PyVOL must match that: the skipped tests are the ones whose
capability flags native HDF5 leaves unset too (README lists ours).
"""
import re

import pytest

from conftest import api_program_path as api_program, assert_no_crash, run, vol_env

SUMMARY = re.compile(r"(\d+)/(\d+) \([\d.]+%\) API tests (passed|did not pass|were skipped)")



def summary(output: str) -> dict:
    return {kind: int(n) for n, total, kind in SUMMARY.findall(output)}


@pytest.mark.parametrize("connector", ["H5PyVOL", "H5PyVOL connector=memory", "H5PyVOL connector=store"])
def test_h5_api_test(tmp_path, connector):
    result = run([api_program("h5_api_test")], vol_env(connector, pythonpath=False), tmp_path, timeout=1200)
    assert_no_crash(result)
    counts = summary(result.stdout)
    print(f"h5_api_test with {connector!r}: {counts}")
    assert set(counts) == {"passed", "did not pass", "were skipped"}, result.stdout[-2000:]
    failed = [line.strip() for line in result.stdout.splitlines() if "*FAILED*" in line]
    assert counts["did not pass"] == 0, "\n".join(failed)
    assert counts["passed"] >= 1074


def test_h5_api_test_testhdf5_does_not_crash(tmp_path):
    """The companion suite checks native file-format details too (it reports
    hundreds of errors even natively); what must hold is that no test of it
    can crash the process through H5PyVOL."""
    # In memory: through the directory store this suite of many large files
    # takes far longer than CI allows.
    result = run([api_program("h5_api_test_testhdf5")], vol_env("H5PyVOL connector=memory", pythonpath=False),
                 tmp_path, timeout=1200)
    assert_no_crash(result)
    errors = re.search(r"(\d+) Error\(s\) were detected", result.stdout)
    print("h5_api_test_testhdf5:", errors.group(0) if errors else "no error summary")
    assert "Cleaning Up temp files" in result.stdout
