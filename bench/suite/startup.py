"""Workload 6, start-up: whole-process wall time (spawn to exit) of the
smallest C program that opens and closes one existing file
(bench/c/open_close.c), and of `python -c "import h5py; h5py.File(f).close()"`,
natively vs through H5PyVOL's directory store: the cost of booting Python
and the connector inside a process that only wants one file."""
from __future__ import annotations

import os
import re
import shutil
import sys
import time

from bridge import build
from common import Context, Figure, env_for, median, python_json

OPEN_PY = "import h5py, sys; h5py.File(sys.argv[1], 'r').close()"
# the same plus its own peak RSS (VmHWM), for one untimed run
RSS_PY = OPEN_PY + "; print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"


def spawn(argv: list, env: dict, out) -> float:
    """Seconds from posix_spawn to the child's exit; its stdout, stderr go to ``out``."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        begin = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, fd, 1),
                                                                (os.POSIX_SPAWN_DUP2, fd, 2)])
        _, status, _ = os.wait4(pid, 0)
        seconds = time.perf_counter() - begin
    finally:
        os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)}):\n{out.read_text()[-4000:]}")
    return seconds


def run(ctx: Context) -> list[Figure]:
    exe = str(build(ctx, "open_close"))
    where = ctx.shm / "startup"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    make = "import h5py, sys\nwith h5py.File(sys.argv[1], 'w') as f: f['x'] = list(range(10))\nprint('{}')"
    files = {"native": (where / "native.h5", env_for(None)),
             "H5PyVOL directory store": (where / "store.h5", env_for("H5PyVOL"))}
    for path, env in files.values():
        python_json(make, env, path)
    cases = {"C program: H5Fopen+H5Fclose, process wall time": [exe, "{file}"],
             "python -c 'import h5py; h5py.File(f).close()'": [sys.executable, "-c", OPEN_PY, "{file}"]}
    log = ctx.scratch / "startup.out"
    reps = 10 if ctx.quick else 20  # short runs: more of them for a steady median
    figures = []
    for case, argv in cases.items():
        commands = {name: ([a.replace("{file}", str(path)) for a in argv], env) for name, (path, env) in files.items()}
        rss = {}
        for name, (cmd, env) in commands.items():  # untimed: warms the page cache, measures peak RSS
            spawn(cmd + ["rss"] if cmd[0] == exe else [*cmd[:2], RSS_PY, *cmd[3:]], env, log)
            rss[name] = int(re.findall(r"\d+", log.read_text())[-1]) / 1024  # VmHWM, KiB
        times = {name: [] for name in commands}
        for _ in range(reps):  # contenders interleaved: background load hits both alike
            for name, (cmd, env) in commands.items():
                times[name].append(spawn(cmd, env, log))
        figures += [Figure("startup", case, name, median(t) * 1e3, "ms", False,
                           peer=None if name == "native" else "native", rss_mib=rss[name],
                           note=f"median of {reps} runs")
                    for name, t in times.items()]
    shutil.rmtree(where, ignore_errors=True)
    return figures


if __name__ == "__main__":
    from common import run_alone
    run_alone(run)
