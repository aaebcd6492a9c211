"""h5pyvol.stream (issue 13) on any backend: tests/stream_check.py run as
a user's script, by test_stream.py (directory store, native .h5) and
test_s3.py / test_rados.py (object stores)."""
from __future__ import annotations

import sys
from pathlib import Path

from conftest import assert_no_crash, run

CHECK = Path(__file__).with_name("stream_check.py")


def streams_everything(name: str, env: dict, cwd: Path) -> list:
    """Runs the check on ``name``; returns its FIGURE lines."""
    result = run([sys.executable, CHECK, name], env, cwd, timeout=240)  # about 5 s on the directory store
    assert_no_crash(result)
    assert result.returncode == 0 and "STREAM OK" in result.stdout, result.output
    assert "leaked" not in result.stderr, result.stderr  # shared memory and semaphores all released
    return [line.removeprefix("FIGURE ") for line in result.stdout.splitlines() if line.startswith("FIGURE ")]
