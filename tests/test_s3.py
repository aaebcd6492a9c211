"""The S3 backend (object-stores/minio) against a real S3 server: SeaweedFS
(`weed mini`) started by these tests on 127.0.0.1.  Every program runs
unmodified; only the environment says where files go."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT, TESTS, api_program_path, assert_c_round_trip_like_native, assert_no_crash, run, vol_env
from servers.ceph import CephS3
from servers.seaweedfs import SeaweedS3

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


@pytest.fixture(scope="session", params=["seaweedfs", "radosgw"])
def s3(request, tmp_path_factory):
    """Every S3 test runs against two real servers: SeaweedFS and Ceph's
    radosgw (on a single-node cluster of its own)."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")) if request.param == "seaweedfs" \
        else CephS3(tmp_path_factory.mktemp("ceph-rgw"))
    try:
        server.start()
    except FileNotFoundError as exc:  # the server's binaries are missing: the one reason to skip
        pytest.skip(f"{request.param} cannot start here: {exc}")
    print(f"\n[s3] {request.param} ready for signed writes after {server.started_in:.1f} s at {server.endpoint}")
    yield server
    server.stop()
    getattr(server, "shutdown", lambda: None)()


def s3_env(server, connector="H5PyVOL", **extra):
    return vol_env(connector, **server.env(), **extra)


def run_script(code, server, tmp_path, *args, **extra):
    script = tmp_path / "script.py"
    script.write_text(code)
    result = run([sys.executable, script, *args], s3_env(server, **extra), tmp_path)
    assert_no_crash(result)
    return result


def test_h5py_script_writes_and_another_process_reads(s3, tmp_path):
    url = "s3://h5py-data/experiments/run1.h5"
    written = run_script(H5PY_WRITE, s3, tmp_path, url)
    assert written.returncode == 0, written.output
    ours = run_script(H5PY_READ, s3, tmp_path, url)
    assert ours.returncode == 0, ours.output
    local = tmp_path / "native.h5"
    native = run([sys.executable, "-c", H5PY_WRITE + "\n" + H5PY_READ.replace("import sys, h5py", ""), local],
                 vol_env(None), tmp_path)
    assert native.returncode == 0, native.output
    assert ours.stdout == native.stdout.replace("written\n", "")
    objects = {o.object_name for o in s3.client().list_objects("h5py-data", prefix="experiments/", recursive=True)}
    assert "experiments/run1.h5/zarr.json" in objects
    assert "experiments/run1.h5/big/c/7" in objects  # chunks are objects of their own


def test_unmodified_c_program_writes_to_s3(s3, tmp_path, build_c):
    """root=s3://... puts the C program's relative file names in the bucket."""
    exe = build_c("examples/c_app.c")
    connector = "H5PyVOL root=s3://c-programs/run1"
    result = run([exe, "from_c.h5"], s3_env(s3, connector), tmp_path)
    assert_no_crash(result)
    assert result.returncode == 0, result.output
    assert not (tmp_path / "from_c.h5").exists()
    read = run([sys.executable, "-c", "import h5py\n"
                "with h5py.File('s3://c-programs/run1/from_c.h5', 'r') as f:\n"
                "    print(sorted(f), f[sorted(f)[0]].shape)"], s3_env(s3), tmp_path)
    assert read.returncode == 0, read.output
    assert "[" in read.stdout


def test_c_program_types_groups_attributes_links_like_native(s3, tmp_path, build_c):
    printed = assert_c_round_trip_like_native(build_c("store_app.c"), s3_env(s3, "H5PyVOL root=s3://c-types/run1"),
                                              tmp_path)
    assert "compound of 3 fields" in printed and "external -> calibration.h5:/table" in printed
    objects = {o.object_name for o in s3.client().list_objects("c-types", prefix="run1/", recursive=True)}
    assert "run1/types.h5/run/sensors/temps/zarr.json" in objects


def test_truncating_a_file_removes_every_object_it_had(s3, tmp_path):
    """h5py's "w" over an existing file: its 1100 chunk objects go in
    multi-object DELETEs (1000 keys at most each)."""
    url = "s3://truncated/data.h5"
    code = f"import h5py, numpy as np\nh5py.File('{url}', 'w').create_dataset('x', data=np.arange(1100), chunks=(1,))"
    assert run_script(code, s3, tmp_path).returncode == 0
    listed = lambda: {o.object_name for o in s3.client().list_objects("truncated", recursive=True)}  # noqa: E731
    assert len([n for n in listed() if n.startswith("data.h5/x/c/")]) == 1100
    assert run_script(f"import h5py\nh5py.File('{url}', 'w')['y'] = [1]", s3, tmp_path).returncode == 0
    assert not any(n.startswith("data.h5/x/") for n in listed())
    assert "data.h5/y/c/0" in listed()


def test_zarr_python_reads_the_bucket(s3, tmp_path):
    url = "s3://zarr-readers/data.h5"
    assert run_script(H5PY_WRITE, s3, tmp_path, url).returncode == 0
    code = f"""
import numpy as np, zarr
from obstore.store import S3Store
from zarr.storage import ObjectStore
store = ObjectStore(S3Store("zarr-readers", prefix="data.h5", endpoint="{s3.endpoint}",
                            access_key_id="{s3.env()['AWS_ACCESS_KEY_ID']}",
                            secret_access_key="{s3.env()['AWS_SECRET_ACCESS_KEY']}",
                            region="us-east-1", client_options={{"allow_http": True}}), read_only=True)
root = zarr.open_group(store=store, mode="r")
print("zarr", root["ints"][...].tolist(), int(root["big"][...].sum()), root["group/inner"].attrs["answer"])
"""
    result = run([sys.executable, "-c", code], vol_env(None), tmp_path)
    assert result.returncode == 0, result.output
    big_sum = sum(i % 65536 for i in range(300000))  # the u2 values wrap
    assert f"zarr [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] {big_sum} 42" in result.stdout


def test_missing_bucket_created_on_create_never_on_open(s3, tmp_path):
    code = r"""
import h5py
try:
    h5py.File("s3://never-made/file.h5", "r")
except FileNotFoundError as e:
    print("open: FileNotFoundError")
with h5py.File("s3://made-on-create/file.h5", "w") as f:
    f["x"] = 1
"""
    result = run([sys.executable, "-c", code], s3_env(s3), tmp_path)
    assert result.returncode == 0, result.output
    assert "open: FileNotFoundError" in result.stdout
    client = s3.client()
    assert not client.bucket_exists("never-made")
    assert client.bucket_exists("made-on-create")


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


def test_racing_exclusive_creators_one_wins_one_clear_error(s3, tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    for attempt in range(5):
        url = f"s3://races/file{attempt}.h5"
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, script, url, str(start), str(i)], env=s3_env(s3), cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        outputs = [p.communicate(timeout=60) for p in procs]
        results = [out.strip() for out, _ in outputs]
        assert sorted(r.split(":")[0] for r in results) == ["lost", "won"], outputs
        assert "created by another writer" in next(r for r in results if r.startswith("lost")) or \
            "exists" in next(r for r in results if r.startswith("lost"))
        winner = results.index("won")
        check = run([sys.executable, "-c", f"import h5py\nprint(h5py.File('{url}', 'r')['who'][()])"],
                    s3_env(s3), tmp_path)
        assert check.stdout.strip() == str(winner), check.output


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


def test_server_stopped_mid_write_gives_an_error_and_keeps_flushed_data(s3, tmp_path):
    url = "s3://outage/file.h5"
    script = tmp_path / "writer.py"
    script.write_text(WRITER_DURING_OUTAGE)
    proc = subprocess.Popen([sys.executable, script, url], env=s3_env(s3), cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "flushed"
    s3.stop()
    try:
        out, err = proc.communicate("go\n", timeout=300)
    finally:
        s3.start()
    assert proc.returncode >= 0, err
    assert "error:" in out, out + err
    assert "S3 server" in out or "S3" in out, out
    check = run([sys.executable, "-c", f"import h5py\nprint(int(h5py.File('{url}', 'r')['before'][...].sum()))"],
                s3_env(s3), tmp_path)
    assert check.returncode == 0, check.output
    assert check.stdout.strip() == str(sum(range(1000)))


def test_h5_api_test_against_s3(s3, tmp_path):
    result = run([api_program_path("h5_api_test")],
                 s3_env(s3, "H5PyVOL root=s3://api-test/run", pythonpath=False), tmp_path, timeout=1200)
    assert_no_crash(result)
    counts = {k: int(v) for v, k in re.findall(r"(\d+)/\d+ \([\d.]+%\) API tests (passed|did not pass|were skipped)",
                                               result.stdout)}
    print(f"\n[s3] h5_api_test through {type(s3).__name__} at {s3.endpoint}: {counts}")
    assert counts.get("did not pass") == 0, result.stdout[-3000:]
    assert counts.get("passed", 0) >= 1074


def test_s3_demo_script_runs_end_to_end(tmp_path):
    """scripts/demo_s3.sh (README, docker/compose.yml) with a server of its own."""
    env = {k: v for k, v in vol_env(None).items() if not k.startswith("AWS_")}
    result = run(["bash", ROOT / "scripts" / "demo_s3.sh"], env, tmp_path, timeout=300)
    assert result.returncode == 0, result.output
    assert "zarr-python: [300 301 302 303 304 305]" in result.stdout
    assert "grid[3][5] = 305" in result.stdout
    assert subprocess.run(["pgrep", "-f", str(ROOT / "build" / "demo-s3")], capture_output=True).returncode != 0, \
        "the demo's SeaweedFS outlived it"


SLOW_WRITER = r"""
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
print("opened", flush=True)
sys.stdin.readline()          # another process writes the file now
f["mine"] = [1, 2, 3]
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


def test_a_writer_that_lost_a_race_gets_an_error_not_an_overwrite(s3, tmp_path):
    url = "s3://concurrent/shared.h5"
    seed = run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'w')['base'] = [0]"], s3_env(s3), tmp_path)
    assert seed.returncode == 0, seed.output
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    slow = subprocess.Popen([sys.executable, script, url], env=s3_env(s3), cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert slow.stdout.readline().strip() == "opened"
    fast = run([sys.executable, "-c", f"import h5py\nh5py.File('{url}', 'r+')['theirs'] = [4, 5]"], s3_env(s3),
               tmp_path)
    assert fast.returncode == 0, fast.output
    out, err = slow.communicate("go\n", timeout=120)
    assert slow.returncode >= 0, err
    assert "error:" in out and "changed by another writer" in out, out + err
    final = run([sys.executable, "-c", f"import h5py\nf = h5py.File('{url}', 'r')\nprint(sorted(f), f['theirs'][...].tolist())"],
                s3_env(s3), tmp_path)
    assert final.returncode == 0, final.output
    assert final.stdout.strip() == "['base', 'theirs'] [4, 5]"
