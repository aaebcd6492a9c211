"""What every object-store backend must do, as scenarios the backend's test
file runs against its real server: ``env`` is the environment of a program
using H5PyVOL with that server; file URLs are the backend's own."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from conftest import api_program_path, assert_no_crash, run, vol_env

H5PY_WRITE = r"""
import sys, h5py, numpy as np
url = sys.argv[1]
with h5py.File(url, "w") as f:
    f["ints"] = np.arange(12, dtype="<i4").reshape(3, 4)
    f["floats"] = np.linspace(0, 1, 5, dtype=">f8")
    f.create_dataset("big", data=np.arange(300000, dtype="u2"), chunks=(40000,))
    f["strings"] = np.array([b"alpha", b"beta"], dtype="S6")
    f["vlen"] = ["één", "two"]
    f["compound"] = np.array([(1, 2.5)], dtype=[("a", "i2"), ("b", "f4")])
    g = f.create_group("group/inner")
    g.attrs["answer"] = 42
    g.attrs["label"] = "s3"
    f["group/soft"] = h5py.SoftLink("/ints")
    f["group/hard"] = f["floats"]
print("written")
"""

H5PY_READ = r"""
import sys, h5py
url = sys.argv[1]
with h5py.File(url, "r") as f:
    print("ints", f["ints"][...].tolist())
    print("floats", f["floats"][...].tolist(), f["floats"].dtype.str)
    print("big", int(f["big"][123456]), int(f["big"][...].sum()))
    print("strings", f["strings"][...].tolist(), [s.decode() for s in f["vlen"][...]])
    print("compound", f["compound"][0].tolist())
    print("attrs", dict(f["group/inner"].attrs))
    print("links", f["group/soft"][2, 3], f["group/hard"] == f["floats"], sorted(f["group"]))
"""

BIG_SUM = sum(i % 65536 for i in range(300000))  # H5PY_WRITE's u2 values wrap

RACER = r"""
import sys, time, h5py
start = float(sys.argv[2])
while time.time() < start:
    pass
try:
    with h5py.File(sys.argv[1], "w-") as f:
        f["who"] = int(sys.argv[3])
    print("won")
except FileExistsError as e:
    print("lost:", e)
"""

SLOW_WRITER = r"""
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
print("opened", flush=True)
sys.stdin.readline()          # another process writes the file now
f["mine"] = [1, 2, 3]
f["g"].attrs[sys.argv[2]] = 1  # in a node the other writer changed too
try:
    f.flush()
    print("flushed")
except Exception as e:
    print("error:", type(e).__name__, str(e)[:300])
try:
    f.close()
except Exception:
    pass
"""

WRITER_DURING_OUTAGE = r"""
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "w")
f["before"] = np.arange(1000)
f.flush()
print("flushed", flush=True)
sys.stdin.readline()          # the test stops the server now
try:
    f["after"] = np.arange(10)
    f.flush()
    print("no error")
except Exception as e:
    print("error:", type(e).__name__, str(e)[:300])
"""


def python(code: str, env: dict, cwd: Path, *args, timeout=120, executable=sys.executable):
    script = cwd / "script.py"
    script.write_text(code)
    result = run([executable, script, *args], env, cwd, timeout=timeout)
    assert_no_crash(result)
    return result


def h5py_round_trip_like_native(url: str, env: dict, tmp_path: Path, executable=sys.executable,
                                native_env: Optional[dict] = None) -> None:
    """An h5py script writes; a second process reads it all back exactly as
    native HDF5 gives it (to the same Python, ``executable``)."""
    written = python(H5PY_WRITE, env, tmp_path, url, executable=executable)
    assert written.returncode == 0, written.output
    ours = python(H5PY_READ, env, tmp_path, url, executable=executable)
    assert ours.returncode == 0, ours.output
    native = run([executable, "-c", H5PY_WRITE + "\n" + H5PY_READ.replace("import sys, h5py", ""),
                  tmp_path / "native.h5"], native_env or vol_env(None), tmp_path)
    assert native.returncode == 0, native.output
    assert ours.stdout == native.stdout.replace("written\n", "")


def c_round_trip_like_native(exe, env: dict, tmp_path: Path, name: str = "types.h5") -> str:
    """tests/c/store_app.c writes in one process and reads back in a second;
    what it prints must be what it prints on native HDF5."""
    native_dir = tmp_path / "native-c"
    native_dir.mkdir(exist_ok=True)
    native = [run([exe, mode, "native.h5"], vol_env(None), native_dir) for mode in ("write", "read")]
    assert all(r.returncode == 0 for r in native), native[-1].output
    ours = [run([exe, mode, name], env, tmp_path) for mode in ("write", "read")]
    for result in ours:
        assert_no_crash(result)
        assert result.returncode == 0, result.output
    assert ours[1].stdout == native[1].stdout
    assert "compound of 3 fields" in ours[1].stdout and "external -> calibration.h5:/table" in ours[1].stdout
    return ours[1].stdout


def racing_creators_one_wins(url_of: Callable[[int], str], env: dict, tmp_path: Path, rounds: int = 3) -> None:
    """Two processes create one file with "w-" at the same instant: one
    wins, the other gets FileExistsError, the file holds the winner's data."""
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    for attempt in range(rounds):
        url = url_of(attempt)
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, script, url, str(start), str(i)], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        outputs = [p.communicate(timeout=60) for p in procs]
        results = [out.strip() for out, _ in outputs]
        assert sorted(r.split(":")[0] for r in results) == ["lost", "won"], outputs
        lost = next(r for r in results if r.startswith("lost"))
        assert "created by another writer" in lost or "exists" in lost, lost
        check = run([sys.executable, "-c", f"import h5py\nprint(h5py.File('{url}', 'r')['who'][()])"], env, tmp_path)
        assert check.stdout.strip() == str(results.index("won")), check.output


def interleaved_writers_merge(url: str, env: dict, tmp_path: Path, conflict: bool) -> None:
    """A writer whose file another process changed since it opened it
    merges its changes into the other's at flush: both writers' links and
    attributes are in the file, in the root and in a group both changed.
    Where both set one attribute (``conflict``), the later flush fails with
    an error naming it and keeps the other writer's value; the rest of its
    changes (a new dataset) are written."""
    seed = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'w')\nf['base'] = [0]\n"
                "f.create_group('g')"], env, tmp_path)
    assert seed.returncode == 0, seed.output
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    slow = subprocess.Popen([sys.executable, script, url, "fast" if conflict else "slow"], env=env, cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert slow.stdout.readline().strip() == "opened"
    fast = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'r+')\nf['theirs'] = [4, 5]\n"
                "f['g'].attrs['fast'] = 2"], env, tmp_path)
    assert fast.returncode == 0, fast.output
    out, err = slow.communicate("go\n", timeout=120)
    assert slow.returncode >= 0, err
    final = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'r')\n"
                 "print(sorted(f), f['theirs'][...].tolist(), dict(f['g'].attrs))"], env, tmp_path)
    assert final.returncode == 0, final.output
    if conflict:
        assert "error:" in out and "attribute 'fast' of '/g' was changed by another writer" in out, out + err
        assert final.stdout.strip() == "['base', 'g', 'mine', 'theirs'] [4, 5] {'fast': np.int64(2)}", final.stdout
    else:
        assert out.strip() == "flushed", out + err
        assert final.stdout.strip() == \
            "['base', 'g', 'mine', 'theirs'] [4, 5] {'fast': np.int64(2), 'slow': np.int64(1)}", final.stdout


def outage_keeps_flushed_data(url: str, env: dict, tmp_path: Path, stop: Callable, start: Callable) -> str:
    """The server stops while a writer has a file open: its next write
    fails with an HDF5 error (returned: the writer's output); once the
    server is back, everything flushed before reads back."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER_DURING_OUTAGE)
    proc = subprocess.Popen([sys.executable, script, url], env=env, cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "flushed"
    stop()
    try:
        out, err = proc.communicate("go\n", timeout=300)
    finally:
        start()
    assert proc.returncode >= 0, err
    assert "error:" in out, out + err
    check = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'r')\n"
                 "print(int(f['before'][...].sum()), list(f))"], env, tmp_path)
    assert check.returncode == 0, check.output
    assert check.stdout.strip() == f"{sum(range(1000))} ['before']"
    return out


WHOLE_CHUNKS_WRITE = """
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
    f.create_dataset('x', data=np.arange(4 * 65536, dtype='f8'), chunks=(65536,), fillvalue=-1)
"""

WHOLE_CHUNKS_READ = """
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], 'r') as f:
    x = f['x'][...]
expected = np.arange(4 * 65536, dtype='f8')
expected[65536:131072] = -1
print('same', np.array_equal(x, expected))
"""


def whole_chunks_read_into_place(url: str, env: dict, tmp_path: Path, remove: Callable, replace: Callable) -> None:
    """Whole stored chunks are read straight into HDF5's buffer
    (``get_into``): the values are right, a missing chunk reads as the fill
    value, and a chunk of the wrong size fails the read naming it.
    ``remove(key)`` and ``replace(key, value)`` change the file's store
    behind the connector's back (keys relative to the file)."""
    assert python(WHOLE_CHUNKS_WRITE, env, tmp_path, url).returncode == 0
    remove("x/c/1")
    result = python(WHOLE_CHUNKS_READ, env, tmp_path, url)
    assert result.returncode == 0, result.output
    assert "same True" in result.stdout
    for wrong in (1000, 65536 * 8 + 1):
        replace("x/c/2", b"\0" * wrong)
        result = python(WHOLE_CHUNKS_READ, env, tmp_path, url)
        assert result.returncode != 0
        assert f"'x/c/2' holds {wrong} bytes" in result.output, result.output


FILESIZE = r"""
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("x", data=np.arange(50000, dtype="<f8"), chunks=(8000,))
    f.create_group("g").attrs["note"] = "filesize"
with h5py.File(sys.argv[1], "r") as f:
    print(f.id.get_filesize())
"""


def filesize_is_what_the_store_holds(url: str, env: dict, tmp_path: Path) -> int:
    """H5Fget_filesize is the bytes of the file's keys: the same file in a
    directory store (whose bytes du counts) has the same size."""
    ours = python(FILESIZE, env, tmp_path, url)
    assert ours.returncode == 0, ours.output
    local = python(FILESIZE, vol_env(), tmp_path, "local.h5")
    assert local.returncode == 0, local.output
    on_disk = sum(p.stat().st_size for p in (tmp_path / "local.h5").rglob("*") if p.is_file())
    assert int(local.stdout) == on_disk > 400000
    assert int(ours.stdout) == on_disk, (ours.stdout, on_disk)
    return on_disk


def h5_api_test_passes(env: dict, tmp_path: Path, label: str) -> None:
    result = run([api_program_path("h5_api_test")], env, tmp_path, timeout=1200)
    assert_no_crash(result)
    counts = {k: int(v) for v, k in re.findall(r"(\d+)/\d+ \([\d.]+%\) API tests (passed|did not pass|were skipped)",
                                               result.stdout)}
    print(f"\n[{label}] h5_api_test: {counts}")
    assert counts.get("did not pass") == 0, result.stdout[-3000:]
    assert counts.get("passed", 0) >= 1074
