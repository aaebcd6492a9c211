"""The RADOS backend (object-stores/ceph) against a real single-node Ceph
cluster the tests bootstrap on 127.0.0.1 (tests/servers/ceph.py)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import api_program_path, assert_no_crash, run, vol_env
from servers.ceph import POOL, CephCluster
from test_s3 import H5PY_READ, H5PY_WRITE, RACER, SLOW_WRITER


@pytest.fixture(scope="session")
def ceph(tmp_path_factory):
    cluster = CephCluster(tmp_path_factory.mktemp("ceph"))
    try:
        cluster.start()
    except FileNotFoundError as exc:  # no Ceph daemons installed: the one reason to skip
        pytest.skip(f"Ceph cannot start here: {exc}")
    print(f"\n[rados] Ceph cluster ready for RADOS writes after {cluster.started_in:.1f} s")
    yield cluster
    cluster.stop()


def ceph_env(cluster, connector="H5PyVOL", **extra):
    return vol_env(connector, **cluster.env(), **extra)


def run_script(code, cluster, tmp_path, *args):
    script = tmp_path / "script.py"
    script.write_text(code)
    result = run([sys.executable, script, *args], ceph_env(cluster), tmp_path)
    assert_no_crash(result)
    return result


def test_h5py_script_writes_and_another_process_reads(ceph, tmp_path):
    url = f"rados://{POOL}/experiments/run1.h5"
    written = run_script(H5PY_WRITE, ceph, tmp_path, url)
    assert written.returncode == 0, written.output
    ours = run_script(H5PY_READ, ceph, tmp_path, url)
    assert ours.returncode == 0, ours.output
    native = run([sys.executable, "-c", H5PY_WRITE + "\n" + H5PY_READ.replace("import sys, h5py", ""),
                  tmp_path / "native.h5"], vol_env(None), tmp_path)
    assert ours.stdout == native.stdout.replace("written\n", "")
    listed = subprocess.run(["rados", "-c", ceph.conf, "-p", POOL, "-N", "experiments/run1.h5", "ls"],
                            capture_output=True, text=True).stdout.split()
    assert "zarr.json" in listed and "big/c/7" in listed


def test_unmodified_c_program_writes_to_rados(ceph, tmp_path, build_c):
    exe = build_c("examples/c_app.c")
    result = run([exe, "from_c.h5"], ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/c"), tmp_path)
    assert_no_crash(result)
    assert result.returncode == 0, result.output
    read = run([sys.executable, "-c", f"import h5py\nf = h5py.File('rados://{POOL}/c/from_c.h5', 'r')\n"
                "print(f['grid'][3, 5])"], ceph_env(ceph), tmp_path)
    assert read.returncode == 0, read.output
    assert read.stdout.strip() == "305"


def test_racing_exclusive_creators_one_wins(ceph, tmp_path):
    import time
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    for attempt in range(3):
        url = f"rados://{POOL}/races/file{attempt}.h5"
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, script, url, str(start), str(i)], env=ceph_env(ceph),
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(2)]
        results = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert sorted(r.split(":")[0] for r in results) == ["lost", "won"], results


def test_a_writer_that_lost_a_race_gets_an_error(ceph, tmp_path):
    url = f"rados://{POOL}/concurrent/shared.h5"
    assert run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'w')['base'] = [0]"],
               ceph_env(ceph), tmp_path).returncode == 0
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    slow = subprocess.Popen([sys.executable, script, url], env=ceph_env(ceph), cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert slow.stdout.readline().strip() == "opened"
    fast = run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'r+')['theirs'] = [4, 5]"],
               ceph_env(ceph), tmp_path)
    assert fast.returncode == 0, fast.output
    out, err = slow.communicate("go\n", timeout=120)
    assert "changed by another writer" in out, out + err
    final = run([sys.executable, "-c", f"import h5py\nprint(sorted(h5py.File('{url}', 'r')))"], ceph_env(ceph),
                tmp_path)
    assert final.stdout.strip() == "['base', 'theirs']", final.output


def test_h5_api_test_against_rados(ceph, tmp_path):
    result = run([api_program_path("h5_api_test")],
                 ceph_env(ceph, f"H5PyVOL root=rados://{POOL}/api", pythonpath=False), tmp_path, timeout=1200)
    assert_no_crash(result)
    counts = {k: int(v) for v, k in re.findall(r"(\d+)/\d+ \([\d.]+%\) API tests (passed|did not pass|were skipped)",
                                               result.stdout)}
    print(f"\n[rados] h5_api_test through Ceph RADOS: {counts}")
    assert counts.get("did not pass") == 0, result.stdout[-3000:]
    assert counts.get("passed", 0) >= 1074
