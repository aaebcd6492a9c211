"""A writer that goes on through server outages: the scenario the fault
tests run against each backend's real server, killed and started again at
random moments of the writer's loop."""
from __future__ import annotations

import random
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from conftest import run

WIDTH = 1024  # int64 values per row: one 8 KiB row per flush

# One row per round of the loop, then a flush.  A failed round is tried
# again, by the same process, until it is flushed: the writer goes on.
WRITER = r"""
import os, sys, time, traceback, h5py, numpy as np
url, stop, width = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(url, "w") as f:
    rows = f.create_dataset("rows", (0, width), maxshape=(None, width), chunks=(8, width), dtype="i8",
                            fillvalue=-1)
    f.flush()
    print("ready", flush=True)
    n = 0
    while not os.path.exists(stop):
        began = time.monotonic()
        try:
            if rows.shape[0] <= n:
                rows.resize((n + 1, width))
            rows[n] = np.arange(n * width, (n + 1) * width)
            f.attrs["rows"] = n + 1
            f.flush()
            n += 1
            print(f"flushed {n} {time.monotonic() - began:.3f}", flush=True)
        except Exception as exc:
            text = " ".join(str(exc).split())
            print(f"error {n} {time.monotonic() - began:.3f} {type(exc).__name__}: {text[:400]}", flush=True)
            traceback.print_exc()  # the test shows the end of these when it fails
            time.sleep(0.05)
print("closed", flush=True)
"""

CHECK = r"""
import sys, h5py, numpy as np
width = int(sys.argv[2])
with h5py.File(sys.argv[1], "r") as f:
    rows = f["rows"][...]
    stored = int(f.attrs["rows"])
expected = np.arange(rows.size, dtype="i8").reshape(rows.shape)
print(stored, rows.shape[0], int((rows != expected).any(axis=1).sum()))
"""


class Writer:
    """The writer process and its report lines, read with a deadline."""

    def __init__(self, url: str, env: dict, tmp_path: Path):
        self.stop_file = tmp_path / "stop"
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(self.stop_file), str(WIDTH)],
                                     env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.flushed = 0
        self.errors: list[tuple[float, str]] = []  # (seconds the failed round took, its text)

    def line(self, deadline: float) -> list[str] | None:
        """The next report, or None once ``deadline`` (monotonic) passed."""
        ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        text = self.proc.stdout.readline()
        assert text, f"the writer ended: {self.proc.stderr.read()[-3000:]}"
        words = text.split(maxsplit=3)
        if words[0] == "flushed":
            self.flushed = int(words[1])
        elif words[0] == "error":
            self.errors.append((float(words[2]), words[3]))
        return words

    def until(self, what: str, seconds: float) -> list[str]:
        deadline = time.monotonic() + seconds
        while (words := self.line(deadline)) is not None:
            if words[0] == what:
                return words
        raise AssertionError(f"no '{what}' from the writer within {seconds:.0f} s "
                             f"(flushed {self.flushed}, last errors {self.errors[-3:]})")

    def close(self) -> None:
        self.stop_file.touch()
        self.until("closed", 120)
        assert self.proc.wait(timeout=60) == 0, self.proc.stderr.read()[-3000:]


def writer_goes_on_through_outages(url: str, env: dict, tmp_path: Path, kill: Callable[[], None],
                                   start: Callable[[], float], *, cause: str, bound: float,
                                   rounds: int = 20, seed: int = 15) -> dict:
    """``rounds`` times: the writer flushes a few rows, the server is killed
    at a random moment (``kill``), stays down for a random while during
    which every round of the writer must fail within ``bound`` seconds
    with an error naming ``cause``, and is started again (``start``,
    returning the seconds it took); the same writer must then flush again.
    At the end every flushed row reads back exactly, from a new process.
    Returns the figures for README."""
    rng = random.Random(seed)
    writer = Writer(url, env, tmp_path)
    writer.until("ready", 120)
    restarts, outage_errors = [], 0
    for round_ in range(rounds):
        target = writer.flushed + rng.randint(1, 8)
        while writer.flushed < target:
            writer.until("flushed", bound)
        time.sleep(rng.uniform(0, 0.05))  # into the middle of the next round
        errors_before = len(writer.errors)
        kill()
        down = time.monotonic()
        writer.until("error", bound + 5)  # the round in flight, or the next, fails
        hold = down + rng.uniform(0.5, 3.0)
        while time.monotonic() < hold:  # rounds during the outage fail too
            writer.line(hold)
        restarts.append(start())
        writer.until("flushed", bound + 60)
        outage_errors += len(writer.errors) - errors_before
        slowest = max(seconds for seconds, _ in writer.errors)
        assert slowest <= bound, f"round {round_}: a failed round took {slowest:.1f} s (bound {bound} s)"
        wrong = [text for _, text in writer.errors if cause not in text]
        assert not wrong, f"round {round_}: errors that do not name the outage ({cause!r}): {wrong[:3]}"
    writer.close()
    check = run([sys.executable, "-c", CHECK, url, str(WIDTH)], env, tmp_path)
    assert check.returncode == 0, check.output[-3000:]
    stored, shape, wrong_rows = map(int, check.stdout.split())
    assert stored == writer.flushed and shape == writer.flushed and wrong_rows == 0, \
        f"the writer flushed {writer.flushed} rows; the file says {stored}, holds {shape}, {wrong_rows} wrong"
    return {"rounds": rounds, "rows_flushed": writer.flushed, "failed_calls": outage_errors,
            "slowest_failure_s": round(max(s for s, _ in writer.errors), 2),
            "slowest_restart_s": round(max(restarts), 1), "rows_lost": 0}
