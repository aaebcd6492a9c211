"""The S3 backend (object-stores/minio) against a real S3 server: SeaweedFS
(`weed mini`) started by these tests on 127.0.0.1.  Every program runs
unmodified; only the environment says where files go."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest

import concurrency_scenarios as many
import tools_scenarios as tools
import store_scenarios as scenario
from conftest import ROOT, assert_no_crash, python_of, run, vol_env, wheel_env
from servers.ceph import CephS3
from servers.seaweedfs import SeaweedS3

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
    return scenario.python(code, s3_env(server, **extra), tmp_path, *args)


def test_h5py_script_writes_and_another_process_reads(s3, tmp_path):
    url = "s3://h5py-data/experiments/run1.h5"
    scenario.h5py_round_trip_like_native(url, s3_env(s3), tmp_path)
    objects = {o.object_name for o in s3.client().list_objects("h5py-data", prefix="experiments/", recursive=True)}
    assert "experiments/run1.h5/zarr.json" in objects
    assert "experiments/run1.h5/big/c/7" in objects  # chunks are objects of their own


def test_the_stock_h5py_wheel_writes_and_reads_through_s3(s3, wheel_venv, tmp_path):
    """The h5py wheel from PyPI (HDF5 2.0; tests/test_h5py_wheel.py)."""
    scenario.h5py_round_trip_like_native("s3://h5py-wheel/run.h5", wheel_env(wheel_venv, **s3.env()), tmp_path,
                                         python_of(wheel_venv), native_env=wheel_env(wheel_venv, None))
    assert "run.h5/zarr.json" in {o.object_name for o in s3.client().list_objects("h5py-wheel", recursive=True)}


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
    scenario.c_round_trip_like_native(build_c("store_app.c"), s3_env(s3, "H5PyVOL root=s3://c-types/run1"), tmp_path)
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
    assert run_script(scenario.H5PY_WRITE, s3, tmp_path, url).returncode == 0
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
    assert f"zarr [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] {scenario.BIG_SUM} 42" in result.stdout


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


def test_whole_chunks_read_into_place_and_a_wrong_sized_chunk_is_an_error(s3, tmp_path):
    client = s3.client()
    scenario.whole_chunks_read_into_place("s3://whole-chunks/data.h5", s3_env(s3), tmp_path,
                                          lambda key: client.remove_object("whole-chunks", f"data.h5/{key}"),
                                          lambda key, value: client.put_object("whole-chunks", f"data.h5/{key}",
                                                                               io.BytesIO(value), len(value)))


def test_damaged_objects_give_errors_naming_the_key_never_other_values(s3, tmp_path):
    """The directory store's corpus of damage (tests/reliability/
    test_damaged_stores.py), each damaged copy uploaded object by object.
    A key replaced by a directory has no counterpart in S3, which has no
    directories: those cases stay with the directory store."""
    from reliability.test_damaged_stores import DAMAGES, _to_directory, damaged_copies, read_damaged
    damages = [d for d in DAMAGES if d[1] is not _to_directory]
    copies = damaged_copies(tmp_path, damages)
    client = s3.client()
    if not client.bucket_exists("damaged"):
        client.make_bucket("damaged")
    for store in [tmp_path / "orig.h5", *copies]:
        for path in sorted(p for p in store.rglob("*") if p.is_file()):
            body = path.read_bytes()
            client.put_object("damaged", f"{store.name}/{path.relative_to(store)}", io.BytesIO(body), len(body))
    read_damaged("s3://damaged/orig.h5", [f"s3://damaged/{c.name}" for c in copies], damages, s3_env(s3), tmp_path)


def test_filesize_is_the_bytes_of_the_objects(s3, tmp_path):
    scenario.filesize_is_what_the_store_holds("s3://h5py-data/sizes/file.h5", s3_env(s3), tmp_path)


def test_racing_exclusive_creators_one_wins_one_clear_error(s3, tmp_path):
    scenario.racing_creators_one_wins(lambda attempt: f"s3://races/file{attempt}.h5", s3_env(s3), tmp_path, rounds=5)


def test_server_stopped_mid_write_gives_an_error_and_keeps_flushed_data(s3, tmp_path):
    out = scenario.outage_keeps_flushed_data("s3://outage/file.h5", s3_env(s3), tmp_path, s3.stop, s3.start)
    assert "S3 server" in out, out


def test_h5_api_test_against_s3(s3, tmp_path):
    scenario.h5_api_test_passes(s3_env(s3, "H5PyVOL root=s3://api-test/run", pythonpath=False), tmp_path,
                                f"s3: {type(s3).__name__} at {s3.endpoint}")


def test_s3_demo_script_runs_end_to_end(tmp_path):
    """scripts/demo_s3.sh (README, docker/compose.yml) with a server of its own."""
    env = {k: v for k, v in vol_env(None).items() if not k.startswith("AWS_")}
    result = run(["bash", ROOT / "scripts" / "demo_s3.sh"], env, tmp_path, timeout=300)
    assert result.returncode == 0, result.output
    assert "zarr-python: [300 301 302 303 304 305]" in result.stdout
    assert "grid[3][5] = 305" in result.stdout
    assert subprocess.run(["pgrep", "-f", str(ROOT / "build" / "demo-s3")], capture_output=True).returncode != 0, \
        "the demo's SeaweedFS outlived it"


@pytest.mark.parametrize("conflict", [False, True], ids=["merged", "conflict"])
def test_interleaved_writers_merge_or_get_an_error(s3, tmp_path, conflict):
    scenario.interleaved_writers_merge(f"s3://concurrent/shared{int(conflict)}.h5", s3_env(s3), tmp_path, conflict)


def test_swmr_readers_never_see_partial_flushes(s3, tmp_path):
    figures = many.swmr_readers_see_whole_flushes("s3://swmr/rows.h5", s3_env(s3), tmp_path, many.SWMR_SECONDS)
    many.record(f"swmr s3 {type(s3).__name__}", figures)


def test_group_refresh_shows_new_links(s3, tmp_path):
    many.group_refresh_shows_new_links("s3://swmr/refresh.h5", s3_env(s3), tmp_path)


def test_concurrent_writers_lose_nothing(s3, tmp_path):
    figures = many.writers_lose_nothing("s3://writers/shared.h5", s3_env(s3), tmp_path)
    many.record(f"writers s3 {type(s3).__name__}", figures)


def test_killed_writers_and_readers_leave_no_lock_and_no_damage(s3, tmp_path):
    figures = many.killed_processes_never_block("s3://killed/rows.h5", s3_env(s3, "H5PyVOL lock=rw"), tmp_path)
    many.record(f"kill -9 s3 {type(s3).__name__}, lock=rw", figures)


def test_conflicting_writers_exactly_one_error(s3, tmp_path):
    many.conflicting_writers_one_error("s3://conflicts/file.h5", s3_env(s3), tmp_path)


# ------------------------------------------------------------ the tools (issue 13)

def test_copy_native_s3_native_keeps_what_h5dump_shows(s3, tmp_path):
    tools.round_trip_keeps_h5dump("s3://tools/rich.h5", s3_env(s3), vol_env(None), tmp_path, jobs=4)


def test_pack_and_unpack_an_s3_file(s3, tmp_path):
    tools.pack_unpack_round_trip("s3://tools/packed.h5", s3_env(s3), vol_env(None), tmp_path)


def test_rechunk_an_s3_dataset_atomically(s3, tmp_path):
    figures = tools.rechunk_is_atomic_for_readers("s3://tools/rechunked.h5", s3_env(s3), tmp_path)
    many.record(f"rechunk s3 {type(s3).__name__}", figures)


def test_stream_an_s3_file(s3, tmp_path):
    import stream_scenarios as stream
    many.record(f"stream s3 {type(s3).__name__}", stream.streams_everything("s3://stream/data.h5", s3_env(s3), tmp_path))


def test_no_secret_in_any_output(s3, tmp_path):
    """Failing calls with H5PYVOL_DEBUG=1 tracebacks (a wrong secret key in
    the environment and in the connector info, a missing bucket) and
    `h5pyvol env`: no output holds the secret key used."""
    wrong = "wrong-secret-" + "7" * 12
    right = s3.env()["AWS_SECRET_ACCESS_KEY"]
    env = s3_env(s3, H5PYVOL_DEBUG="1")
    env["AWS_SECRET_ACCESS_KEY"] = wrong
    refused = scenario.python("import h5py\nh5py.File('s3://secrets/f.h5', 'w')", env, tmp_path)
    assert refused.returncode != 0 and "S3" in refused.output, refused.output
    in_info = scenario.python("import h5py\nh5py.File('s3://secrets/f.h5', 'w')",
                              s3_env(s3, f"H5PyVOL secret_key={wrong}", H5PYVOL_DEBUG="1"), tmp_path)
    assert in_info.returncode != 0, in_info.output
    missing = scenario.python("import h5py\nh5py.File('s3://never-there/f.h5', 'r')",
                              s3_env(s3, H5PYVOL_DEBUG="1"), tmp_path)
    assert missing.returncode != 0, missing.output
    shown = run([sys.executable, "-m", "h5pyvol", "env"], s3_env(s3), tmp_path)
    assert shown.returncode == 0, shown.output
    for result in (refused, in_info, missing, shown):
        assert wrong not in result.output and right not in result.output, result.output
