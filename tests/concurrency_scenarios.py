"""Many processes on one file, as scenarios every backend's test file runs
(directory store in test_concurrency.py, S3 in test_s3.py, RADOS in
test_rados.py): h5py's SWMR API with readers counting what they should
never see, concurrent writers whose every change must survive, and pairs
of writers whose changes truly conflict.  ``env`` is the environment of a
program using H5PyVOL with that backend; file names are the backend's own."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import run

#: how long the SWMR writer appends while readers read (the issue asks for 60 s)
SWMR_SECONDS = float(os.environ.get("H5PYVOL_SWMR_SECONDS", "60"))
#: where the scenarios' figures are collected (pytest hides prints; README quotes these)
FIGURES = Path(__file__).resolve().parent.parent / "build" / "test-figures.txt"


def record(label: str, figures) -> None:
    """Prints a scenario's figures and appends them to FIGURES."""
    print(f"\n[{label}] {figures}")
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with open(FIGURES, "a") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{label}] {json.dumps(figures)}\n")

SWMR_WRITER = r"""
import json, sys, time, h5py, numpy as np
url, seconds = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(1)
f = h5py.File(url, "w", libver="latest")
rows = f.create_dataset("rows", (0, 6), maxshape=(None, 6), chunks=(16, 6), dtype="i8")
f.swmr_mode = True
print("ready", flush=True)
n, flushes, groups, end = 0, 0, 0, time.time() + seconds
while time.time() < end:
    more = int(rng.integers(1, 12))
    rows.resize((n + more, 6))
    rows[n:n + more] = np.repeat(np.arange(n, n + more), 6).reshape(more, 6)  # row i holds i
    n += more
    rows.flush()
    flushes += 1
    if flushes % 25 == 0:  # unlike native SWMR, new objects while readers read
        g = f.create_group(f"g{groups}")
        g.attrs["rows_then"] = n
        groups += 1
        f.flush()
f.close()
print(json.dumps({"rows": n, "flushes": flushes, "groups": groups}), flush=True)
"""

SWMR_READER = r"""
import json, sys, time, h5py, h5pyvol, numpy as np
url, seconds = sys.argv[1], float(sys.argv[2])
counts = dict(reads=0, torn=0, short=0, shrinking=0, groups_seen=0, group_errors=0, reopens=0, group_refreshes=0,
              new_by_refresh=0, new_by_reopen=0)
known = set()
f = h5py.File(url, "r", swmr=True)
assert f.swmr_mode
rows = f["rows"]
last, end = 0, time.time() + seconds
while time.time() < end:
    rows.refresh()
    n = rows.shape[0]
    if n < last:
        counts["shrinking"] += 1
    last = max(last, n)
    if n:
        start = max(0, n - 40)
        block = rows[start:n]
        expected = np.arange(start, n)[:, None]
        bad = block != expected
        counts["short"] += int(np.all(block == 0, axis=1)[expected[:, 0] != 0].sum())  # fill where data must be
        counts["torn"] += int((bad.any(axis=1) & ~bad.all(axis=1)).sum())              # a row half old, half new
        counts["torn"] += int((bad.all(axis=1) & ~np.all(block == 0, axis=1)).sum())   # a row of other values
        counts["reads"] += 1
    if counts["reads"] % 50 == 0:  # new groups appear on reopen or group refresh, with their attributes
        if counts["reads"] % 100 == 0:
            f.close()
            f = h5py.File(url, "r", swmr=True)
            rows = f["rows"]
            counts["reopens"] += 1
        else:
            h5pyvol.refresh(f)
            rows.refresh()  # after the group: the rows its new groups describe (each object is refreshed alone)
            counts["group_refreshes"] += 1
        for name in f:
            if name.startswith("g"):
                counts["groups_seen"] += 1
                if name not in known:
                    counts["new_by_reopen" if counts["reads"] % 100 == 0 else "new_by_refresh"] += 1
                    known.add(name)
                if f[name].attrs["rows_then"] > f["rows"].shape[0]:
                    counts["group_errors"] += 1
f.close()
print(json.dumps(counts), flush=True)
"""


def swmr_readers_see_whole_flushes(url: str, env: dict, tmp_path: Path, seconds: float, readers: int = 4) -> dict:
    """One writer appends and flushes for ``seconds`` while ``readers``
    processes refresh and read: no reader ever sees a shrinking extent, a
    row of fill inside the extent, or a row mixing values.  Returns the
    writer's and readers' figures."""
    writer = subprocess.Popen([sys.executable, "-c", SWMR_WRITER, url, str(seconds)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    procs = [subprocess.Popen([sys.executable, "-c", SWMR_READER, url, str(seconds)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(readers)]
    out, err = writer.communicate(timeout=seconds + 120)
    assert writer.returncode == 0, err
    written = json.loads(out.strip().splitlines()[-1])
    totals = {}
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        assert proc.returncode == 0, err
        for key, value in json.loads(out.strip().splitlines()[-1]).items():
            totals[key] = totals.get(key, 0) + value
    assert totals["torn"] == totals["short"] == totals["shrinking"] == totals["group_errors"] == 0, totals
    assert totals["reads"] >= readers * 10 and totals["groups_seen"] > 0, totals
    if seconds >= 20:  # groups made while readers read show up on a group refresh, not only on reopen
        assert totals["new_by_refresh"] > 0, totals
    final = run([sys.executable, "-c", "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'r')\n"
                 "d = f['rows'][...]\nprint(d.shape[0], bool((d == np.arange(d.shape[0])[:, None]).all()), "
                 "sum(1 for k in f if k.startswith('g')))", url], env, tmp_path)
    assert final.stdout.split() == [str(written["rows"]), "True", str(written["groups"])], final.output
    return {**written, **totals}


GROUP_REFRESH_READER = r"""
import json, sys, h5py, h5pyvol
f = h5py.File(sys.argv[1], "r", swmr=True)
before = sorted(f)
print("opened", flush=True)
sys.stdin.readline()  # the writer has flushed a new group and a root attribute
h5pyvol.refresh(f)
print(json.dumps({"before": before, "after": sorted(f), "attrs": {k: int(v) for k, v in f.attrs.items()},
                  "g1": int(f["g1"].attrs["made"]) if "g1" in f else None}), flush=True)
"""


def group_refresh_shows_new_links(url: str, env: dict, tmp_path: Path) -> None:
    """A SWMR reader that refreshes the root group (h5pyvol.refresh, as
    H5Orefresh) sees the group and the attribute the writer flushed after
    the reader opened the file, without reopening it."""
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, h5py\n"
        "f = h5py.File(sys.argv[1], 'w', libver='latest')\n"
        "f.create_group('g0')\n"
        "f.swmr_mode = True\n"
        "print('ready', flush=True); sys.stdin.readline()\n"
        "f.create_group('g1').attrs['made'] = 7\n"
        "f.attrs['groups'] = 2\n"
        "f.flush()\n"
        "print('flushed', flush=True); sys.stdin.readline()\n"
        "f.close()\n"), url], env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    reader = subprocess.Popen([sys.executable, "-c", GROUP_REFRESH_READER, url], env=env, cwd=tmp_path,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "opened", reader.stderr.read()
        writer.stdin.write("\n"); writer.stdin.flush()
        assert writer.stdout.readline().strip() == "flushed", writer.stderr.read()
        reader.stdin.write("\n"); reader.stdin.flush()
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        writer.stdin.write("\n"); writer.stdin.flush()
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    finally:
        for proc in (writer, reader):
            if proc.poll() is None:
                proc.kill()
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"before": ["g0"], "after": ["g0", "g1"], "attrs": {"groups": 2}, "g1": 7}, seen


WRITERS = r"""
import json, multiprocessing as mp, sys, time, h5py, numpy as np
url, writers, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def writer(i, start):
    start.wait()
    for r in range(rounds):
        with h5py.File(url, "r+") as f:
            f["shared"][i * rounds + r] = 1000 * i + r           # one element; chunks shared by writers
            g = f[f"w{i}"].create_group(f"g{r}")                # a new group with an attribute
            g.attrs["round"] = r
            f[f"w{i}"].create_dataset(f"d{r}", data=np.full(3, i * 100 + r))
            f[f"w{i}/s{r}"] = h5py.SoftLink(f"/w{i}/d{r}")       # a link
            f.attrs[f"w{i}_r{r}"] = r                           # the root every writer changes
            grow = f[f"grow{i}"]                                # its own dataset, resized every round
            grow.resize((r + 1,))
            grow[r] = r

if __name__ == "__main__":
    with h5py.File(url, "w") as f:
        f.create_dataset("shared", (writers * rounds,), chunks=(16,), dtype="i8", fillvalue=-1)
        for i in range(writers):
            f.create_group(f"w{i}")
            f.create_dataset(f"grow{i}", (0,), maxshape=(None,), chunks=(8,), dtype="i8", fillvalue=-1)
    start = mp.Barrier(writers)
    t0 = time.time()
    procs = [mp.Process(target=writer, args=(i, start)) for i in range(writers)]
    [p.start() for p in procs]
    [p.join() for p in procs]
    elapsed = time.time() - t0
    missing = []
    with h5py.File(url, "r") as f:
        shared = f["shared"][...]
        for i in range(writers):
            for r in range(rounds):
                if shared[i * rounds + r] != 1000 * i + r:
                    missing.append(f"shared[{i * rounds + r}]")
                g = f[f"w{i}"].get(f"g{r}")
                if g is None or g.attrs.get("round") != r:
                    missing.append(f"w{i}/g{r}")
                d = f[f"w{i}"].get(f"d{r}")
                if d is None or d[...].tolist() != [i * 100 + r] * 3:
                    missing.append(f"w{i}/d{r}")
                if f[f"w{i}"].get(f"s{r}", getlink=True) is None or f[f"w{i}/s{r}"][0] != i * 100 + r:
                    missing.append(f"w{i}/s{r}")
                if f.attrs.get(f"w{i}_r{r}") != r:
                    missing.append(f"attrs w{i}_r{r}")
            if f[f"grow{i}"][...].tolist() != list(range(rounds)):
                missing.append(f"grow{i}")
    print(json.dumps({"exit": [p.exitcode for p in procs], "missing": missing, "seconds": elapsed,
                      "changes": writers * rounds * 6}))
"""


def writers_lose_nothing(url: str, env: dict, tmp_path: Path, writers: int = 8, rounds: int = 50) -> dict:
    """``writers`` processes, each ``rounds`` times: open "r+", write one
    element of a dataset every writer writes (chunks shared), create a
    group with an attribute, a dataset and a soft link, set an attribute of
    the root, resize and write a dataset of its own, close.  Afterwards
    every change of every writer is in the file."""
    result = run([sys.executable, "-c", WRITERS, url, str(writers), str(rounds)], env, tmp_path, timeout=1200)
    assert result.returncode == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["exit"] == [0] * writers, result.output
    assert figures["missing"] == [], figures["missing"][:20]
    return figures


CONFLICTS = r"""
import json, multiprocessing as mp, sys, h5py, numpy as np
url, kind = sys.argv[1], sys.argv[2]

def writer(i, opened, done, errors):
    passed = False
    try:
        with h5py.File(url, "r+") as f:
            opened.wait(timeout=30)                       # both have read the file before either writes
            if kind == "group":
                f.create_group("same").attrs["who"] = i
            elif kind == "dataset":
                f.create_dataset("same", data=np.full(4, i))
            elif kind == "attribute":
                f.attrs["same"] = i
            elif kind == "resize":
                f["ext"].resize((10 + i,))
            elif kind == "element-free":                  # not a conflict: different elements of one chunk
                f["ext"][i] = 100 + i
            done.wait(timeout=30)                         # both changed before either flushes (at close)
            passed = True
    except Exception as e:
        errors.put((i, type(e).__name__, str(e)))
        if not passed:
            done.wait(timeout=30)

if __name__ == "__main__":
    with h5py.File(url, "w") as f:
        f.create_dataset("ext", (4,), maxshape=(None,), chunks=(8,), dtype="i8")
    opened, done, errors = mp.Barrier(2), mp.Barrier(2), mp.Queue()
    procs = [mp.Process(target=writer, args=(i, opened, done, errors)) for i in range(2)]
    [p.start() for p in procs]
    [p.join() for p in procs]
    failed = []
    while not errors.empty():
        failed.append(errors.get())
    with h5py.File(url, "r") as f:
        state = {"links": sorted(f), "attrs": {k: int(v) for k, v in f.attrs.items()}, "ext": f["ext"].shape[0],
                 "ext_values": f["ext"][:4].tolist(),
                 "same": (int(f["same"].attrs["who"]) if kind == "group" else f["same"][...].tolist())
                         if "same" in f else None}
    print(json.dumps({"errors": failed, "state": state}))
"""


def conflicting_writers_one_error(url: str, env: dict, tmp_path: Path) -> dict:
    """Two writers that read the file, then make the same change
    differently: exactly one gets an HDF5 error naming the conflict, and
    the other's change is whole in the file.  Different elements of one
    chunk are no conflict: both land."""
    outcomes = {}
    for kind in ("group", "dataset", "attribute", "resize", "element-free"):
        result = run([sys.executable, "-c", CONFLICTS, url, kind], env, tmp_path, timeout=300)
        assert result.returncode == 0, result.output
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        errors, state = outcome["errors"], outcome["state"]
        outcomes[kind] = errors
        if kind == "element-free":
            assert errors == [] and state["ext_values"] == [100, 101, 0, 0], outcome
            continue
        assert len(errors) == 1, outcome
        loser, _, message = errors[0]
        winner = 1 - loser
        assert "another writer" in message, message
        if kind in ("group", "dataset"):
            assert state["same"] == (winner if kind == "group" else [winner] * 4), outcome
        elif kind == "attribute":
            assert state["attrs"] == {"same": winner}, outcome
        else:
            assert state["ext"] == 10 + winner, outcome
    return outcomes


KILLED_WRITER = r"""
import sys, time, h5py, numpy as np
url = sys.argv[1]
t0 = time.time()
f = h5py.File(url, "r+")
rows = f["rows"]
data = rows[...]
n = data.shape[0]
# every row is its index or fill (-1: resized by a writer killed before it wrote them)
bad = int(((data != np.arange(n)) & (data != -1)).sum())
holes = ",".join(map(str, np.nonzero(data == -1)[0])) or "-"
print(f"opened {time.time() - t0:.3f} {n} {bad} {holes}", flush=True)
while True:
    more = 3
    rows.resize((n + more,))                     # one locked operation
    rows[n:n + more] = np.arange(n, n + more)    # another
    n += more
    print(f"wrote {n}", flush=True)
"""

KILLED_READER = r"""
import sys, time, h5py, numpy as np
url = sys.argv[1]
t0 = time.time()
f = h5py.File(url, "r", swmr=True)
rows = f["rows"]
while True:
    rows.refresh()
    data = rows[...]
    bad = int(((data != np.arange(data.shape[0])) & (data != -1)).sum())
    holes = ",".join(map(str, np.nonzero(data == -1)[0])) or "-"
    print(f"read {time.time() - t0:.3f} {data.shape[0]} {bad} {holes}", flush=True)
"""


def killed_processes_never_block(url: str, env: dict, tmp_path: Path, rounds: int = 50, bound: float = 30.0) -> dict:
    """The lock=rw mode (``env`` selects it): a writer and two readers
    start, and at a random moment of their work all three are killed with
    SIGKILL, ``rounds`` times.  Each round's processes make progress within
    ``bound`` seconds of starting (no lock left behind), and every row a
    finished write stored is intact: every row holds its index, or fill
    where a writer was killed between a resize and its write, never where
    a write had finished.  Returns the slowest start and the rows written."""
    import random
    import select
    created = run([sys.executable, "-c", "import sys, h5py\nwith h5py.File(sys.argv[1], 'w') as f:\n"
                   "    f.create_dataset('rows', (0,), maxshape=(None,), chunks=(16,), dtype='i8', fillvalue=-1)",
                   url], env, tmp_path)
    assert created.returncode == 0, created.output
    rng = random.Random(7)
    written, slowest = set(), 0.0  # rows of the writes that reported they finished
    for round_ in range(rounds):
        procs = [subprocess.Popen([sys.executable, "-c", code, url], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for code in (KILLED_WRITER, KILLED_READER, KILLED_READER)]
        lines: list[list[str]] = [[] for _ in procs]
        start, deadline = time.time(), time.time() + bound
        wanted = {0: 2, 1: 1, 2: 1}  # the writer opened and wrote once; each reader read once
        while any(len(lines[i]) < n for i, n in wanted.items()):
            ready, _, _ = select.select([p.stdout for p in procs], [], [], max(0.0, deadline - time.time()))
            assert ready, f"round {round_}: no progress within {bound} s: {lines}"
            for i, proc in enumerate(procs):
                if proc.stdout in ready:
                    line = proc.stdout.readline()
                    assert line, f"round {round_}: process {i} ended: {proc.stderr.read()}"
                    lines[i].append(line.split())
        slowest = max(slowest, time.time() - start)
        time.sleep(rng.uniform(0, 0.3))  # into the middle of whatever they do now
        for proc in procs:
            proc.kill()
        for i, proc in enumerate(procs):
            out, _ = proc.communicate()
            lines[i] += [line.split() for line in out.splitlines() if line]
        for words in [lines[0][0]] + [w for reader in lines[1:] for w in reader if len(w) == 5]:
            lost = written & ({int(h) for h in words[4].split(",")} if words[4] != "-" else set())
            assert words[3] == "0" and not lost, f"round {round_}: damage seen: {words[:4]}, finished rows " \
                f"now fill: {sorted(lost)[:10]}"
        for words in lines[0][1:]:
            if words[0] == "wrote":
                written.update(range(int(words[1]) - 3, int(words[1])))
    return {"rounds": rounds, "slowest_start_s": round(slowest, 2), "rows_written": len(written)}
