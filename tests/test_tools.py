"""The command-line tools (issue 13) on the directory store: copy in both
directions with progress, --jobs and resumption; pack/unpack; ls, info,
check and rm; errors and exit codes.  (test_copy.py checks copy against
every file of the corpus; test_s3.py and test_rados.py run
tools_scenarios.py on the object stores.)"""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import concurrency_scenarios as many
import tools_scenarios as tools
from conftest import vol_env


@pytest.fixture
def env():
    return vol_env()


@pytest.fixture
def native_env():
    return vol_env(None)


@pytest.mark.parametrize("jobs", [1, 4])
def test_round_trip_keeps_everything_h5dump_shows(env, native_env, tmp_path, jobs):
    tools.round_trip_keeps_h5dump("store", env, native_env, tmp_path, jobs=jobs)


def test_pack_unpack_and_the_archive_opens_everywhere(env, native_env, tmp_path):
    tools.pack_unpack_round_trip("store", env, native_env, tmp_path)


def test_a_native_file_packs_directly_and_unpacks_into_a_store(env, native_env, tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    assert tools.h5pyvol(["pack", "rich.h5", "direct.zip"], env, tmp_path).returncode == 0
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".h5pyvol-pack")], "staging store left behind"
    unpacked = tools.h5pyvol(["unpack", "direct.zip", "unpacked"], env, tmp_path)
    assert unpacked.returncode == 0, unpacked.output
    assert tools.dump("unpacked", env, tmp_path) == tools.dump("rich.h5", native_env, tmp_path)
    again = tools.h5pyvol(["unpack", "direct.zip", "unpacked"], env, tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr, again.output


def _big_file(path: Path, chunks: int = 400) -> np.ndarray:
    data = np.random.default_rng(5).random((chunks * 64, 512))
    with h5py.File(path, "w") as f:
        f.create_dataset("big", data=data, chunks=(64, 512))  # 256 KiB chunks
        f["small"] = np.arange(10)
    return data


def test_an_interrupted_copy_resumes_moving_only_what_is_missing(env, tmp_path):
    data = _big_file(tmp_path / "big.h5")
    proc = subprocess.Popen([tools.H5PYVOL, "copy", "big.h5", "dst"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunk_dir = tmp_path / "dst" / "big" / "c"
    deadline = time.time() + 120
    present = 0
    while time.time() < deadline and proc.poll() is None:
        present = sum(len(files) for _, _, files in os.walk(chunk_dir)) if chunk_dir.exists() else 0
        if present >= 100:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the copy ended before it could be interrupted ({present} chunks)"
    resumed = tools.h5pyvol(["copy", "big.h5", "dst"], env, tmp_path)
    assert resumed.returncode == 0, resumed.output
    moved, skipped = map(int, re.search(r"(\d+) chunks \(.*?\) moved, (\d+) \(", resumed.stderr).groups())
    assert skipped >= present and moved + skipped == 401, resumed.stderr  # 400 chunks + the small dataset
    np.save(tmp_path / "expected.npy", data)
    check = subprocess.run([tools.sys.executable, "-c", "import h5py, numpy as np\n"
                            "f = h5py.File('dst', 'r')\n"
                            "print(np.array_equal(f['big'][...], np.load('expected.npy')), f['small'][-1])"],
                           env=env, cwd=tmp_path, capture_output=True, text=True)
    assert check.stdout.split() == ["True", "9"], check.stderr
    done = tools.h5pyvol(["copy", "big.h5", "dst"], env, tmp_path)
    # a third run moves nothing but the dataset that is not chunked (those are copied whole again)
    assert re.search(r" 1 chunks \(80 B\) moved, 400 ", done.stderr), done.stderr


def test_progress_bar_on_a_terminal_and_quiet_when_piped(env, tmp_path):
    _big_file(tmp_path / "big.h5", chunks=40)
    piped = tools.h5pyvol(["copy", "big.h5", "piped"], env, tmp_path)
    assert piped.returncode == 0 and "%|" not in piped.stderr and "\r" not in piped.stderr, piped.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen([tools.H5PYVOL, "copy", "big.h5", "tty"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            block = os.read(master, 4096)
        except OSError:
            break
        if not block:
            break
        shown += block
    proc.wait(timeout=60)
    text = shown.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "copy: 100%" in text and "B/s" in text and "objects" in text, text


def test_ls_info_check_and_errors(env, native_env, tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    assert tools.h5pyvol(["copy", "-q", "rich.h5", "store"], env, tmp_path).returncode == 0
    info = tools.h5pyvol(["info", "store"], env, tmp_path)
    assert info.returncode == 0, info.output
    assert "1 groups, 12 datasets, 1 committed types, 5 attributes" in info.stdout, info.stdout
    assert "1 soft, 1 external" in info.stdout and "H5PyVOL store (Directory" in info.stdout, info.stdout
    # /grp/chunked: 4 of its 5x4 chunks written; /grow: all 3
    assert re.search(r"chunks: +7 stored of 23 in the chunk grids", info.stdout), info.stdout
    native_info = tools.h5pyvol(["info", "rich.h5"], env, tmp_path)
    assert "native HDF5 file" in native_info.stdout and "12 datasets" in native_info.stdout, native_info.output

    missing = tools.h5pyvol(["ls", "nowhere.h5"], env, tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr, missing.output
    assert len(missing.stderr.strip().splitlines()) == 1 and missing.stderr.startswith("h5pyvol ls: ")
    debug = tools.h5pyvol(["ls", "--debug", "nowhere.h5"], env, tmp_path)
    assert "Traceback" in debug.stderr
    same = tools.h5pyvol(["copy", "--overwrite", "rich.h5", "./rich.h5"], env, tmp_path)
    assert same.returncode == 2 and "same file" in same.stderr and (tmp_path / "rich.h5").stat().st_size > 0
    (tmp_path / "notes.txt").write_text("not HDF5")
    assert tools.h5pyvol(["copy", "notes.txt", "x"], env, tmp_path).returncode == 2
    for command in ("copy", "pack", "unpack", "ls", "info", "rm", "check", "env"):
        helped = tools.h5pyvol([command, "--help"], env, tmp_path)
        assert helped.returncode == 0 and "usage: h5pyvol " + command in helped.stdout, helped.output


def test_check_finds_corrupt_chunks_and_missing_nodes(env, tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    assert tools.h5pyvol(["copy", "-q", "rich.h5", "store"], env, tmp_path).returncode == 0
    assert tools.h5pyvol(["check", "store"], env, tmp_path).returncode == 0
    (tmp_path / "store" / "grp" / "chunked" / "c" / "0" / "1").write_bytes(b"garbage, not gzip")
    checked = tools.h5pyvol(["check", "store"], env, tmp_path)
    assert checked.returncode == 1, checked.output
    assert re.search(r"^/grp/chunked chunk \(0, 1\): ", checked.stdout, re.M), checked.stdout
    assert "; 1 problems" in checked.stdout, checked.stdout
    (tmp_path / "store" / "uses_typ" / "zarr.json").unlink()
    checked = tools.h5pyvol(["check", "store"], env, tmp_path)
    assert checked.returncode == 1, checked.output
    assert "link 'uses_typ' names node 'uses_typ', which is missing" in checked.stdout, checked.stdout


def test_rm_deletes_only_h5pyvol_files(env, tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    assert tools.h5pyvol(["copy", "-q", "rich.h5", "store"], env, tmp_path).returncode == 0
    refused = tools.h5pyvol(["rm", "-y", "rich.h5"], env, tmp_path)
    assert refused.returncode == 2 and "native HDF5 file" in refused.stderr and (tmp_path / "rich.h5").exists()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "keep.txt").write_text("mine")
    assert tools.h5pyvol(["rm", "-y", "plain"], env, tmp_path).returncode == 2
    assert (tmp_path / "plain" / "keep.txt").exists()
    unasked = tools.h5pyvol(["rm", "store"], env, tmp_path)  # stdin is no terminal: no answer, no deletion
    assert unasked.returncode == 2 and (tmp_path / "store").exists(), unasked.output
    assert tools.h5pyvol(["pack", "store", "a.zip"], env, tmp_path).returncode == 0
    for name in ("store", "a.zip"):
        removed = tools.h5pyvol(["rm", "-y", name], env, tmp_path)
        assert removed.returncode == 0 and not (tmp_path / name).exists(), removed.output


def test_rechunk_is_atomic_for_readers(env, tmp_path):
    figures = tools.rechunk_is_atomic_for_readers(str(tmp_path / "rechunked"), env, tmp_path)
    many.record("rechunk directory", figures)


def test_rechunk_refuses_what_it_cannot_do(env, tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    native = tools.h5pyvol(["rechunk", "rich.h5", "/grp/chunked", "--chunks", "5,5"], env, tmp_path)
    assert native.returncode == 2 and "h5repack -l" in native.stderr, native.output
    assert tools.h5pyvol(["copy", "-q", "rich.h5", "store"], env, tmp_path).returncode == 0
    for args, message in ((["/grp/chunked", "--chunks", "5"], "rank 2"), (["/nothing", "--chunks", "5"], "no dataset"),
                          (["/grp", "--chunks", "5"], "not a dataset")):
        refused = tools.h5pyvol(["rechunk", "store", *args], env, tmp_path)
        assert refused.returncode == 2 and message in refused.stderr, refused.output
    bad = tools.h5pyvol(["rechunk", "store", "/grp/chunked", "--chunks", "0,5"], env, tmp_path)
    assert bad.returncode == 2 and "positive integers" in bad.stderr, bad.output


def test_copy_to_and_from_memory_in_one_process(tmp_path):
    tools.make_rich_file(tmp_path / "rich.h5")
    import h5pyvol
    h5pyvol.copy(str(tmp_path / "rich.h5"), "mem://copy-test", jobs=4)  # mem:// lives in this process: no workers
    h5pyvol.copy("mem://copy-test", str(tmp_path / "back.h5"))
    assert tools.dump("back.h5", vol_env(None), tmp_path, "-p") == tools.dump("rich.h5", vol_env(None), tmp_path, "-p")
