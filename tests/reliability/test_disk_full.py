"""A full disk under the directory store (issue 15's faults): a writer on a
small tmpfs flushes rows until the disk is full.  The failing call is a
clear HDF5 error saying so, the writer's process lives on, everything
flushed before reads back exactly, no temporary file is left behind, and
once space is freed the same writer goes on."""
from __future__ import annotations

import subprocess
import sys

import pytest

from concurrency_scenarios import record
from conftest import run, vol_env

WIDTH = 2048  # int64 values per row: 16 KiB, one chunk per row

WRITER = r"""
import os, sys, h5py, numpy as np
path, width, freed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f = h5py.File(path, "w")
rows = f.create_dataset("rows", (0, width), maxshape=(None, width), chunks=(1, width), dtype="i8")
n, failures = 0, []
while n < 400:
    try:
        rows.resize((n + 1, width))
        rows[n] = np.arange(n * width, (n + 1) * width)
        f.attrs["rows"] = n + 1
        f.flush()
        n += 1
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        if len(failures) == 1:
            print(f"full after {n}", flush=True)
            print(failures[0], flush=True)
            sys.stdin.readline()  # the test frees space now
        elif len(failures) > 20:
            break
f.close()
print(f"closed {n} {len(failures)}", flush=True)
"""

CHECK = r"""
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    rows, stored = f["rows"][...], int(f.attrs["rows"])
# rows past the last flushed one were resized by a call whose write then failed: fill values
expected = np.arange(rows.size).reshape(rows.shape)
expected[stored:] = 0
print(stored, rows.shape[0], int((rows != expected).any(axis=1).sum()))
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs; mounting one needs root (CI runs as root here)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"DISK-FULL TEST NOT RUN: cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.heavy
def test_full_disk_is_a_clear_error_and_loses_nothing(small_disk, tmp_path):
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (512 << 10))  # freed half-way: the writer must go on
    path = small_disk / "rows.h5"
    env = vol_env()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(WIDTH), str(filler)], env=env,
                            cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    full_after = proc.stdout.readline().split()
    error = proc.stdout.readline()
    assert full_after[:2] == ["full", "after"], full_after + [error, proc.stderr.read()[-3000:]]
    flushed = int(full_after[2])
    assert flushed > 10 and "No space left on device" in error, error

    check = run([sys.executable, "-c", CHECK, str(path)], env, tmp_path)  # while the writer waits
    assert check.returncode == 0, check.output[-3000:]
    stored, shape, wrong = map(int, check.stdout.split())
    assert stored == flushed and shape >= flushed and wrong == 0, check.stdout
    leftovers = [str(p) for p in small_disk.rglob("*") if p.name.startswith(".tmp")]
    assert not leftovers, f"temporary files left on the full disk: {leftovers}"

    filler.unlink()
    out, err = proc.communicate("go\n", timeout=300)
    assert proc.returncode == 0, err[-3000:]
    closed = out.split()
    assert closed[0] == "closed" and int(closed[1]) > flushed, out + err[-2000:]
    check = run([sys.executable, "-c", CHECK, str(path)], env, tmp_path)
    assert check.returncode == 0, check.output[-3000:]
    stored, shape, wrong = map(int, check.stdout.split())
    assert (stored, wrong) == (int(closed[1]), 0), check.stdout
    record("disk full, directory store", {"rows_flushed_before_full": flushed, "row_bytes": WIDTH * 8,
                                          "failed_calls": int(closed[2]), "rows_after_512KiB_freed": int(closed[1]),
                                          "rows_lost": 0, "temporary_files_left": 0})
