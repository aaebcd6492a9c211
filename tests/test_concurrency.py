"""Many processes on one directory-store file (the scenarios are in
concurrency_scenarios.py; test_s3.py and test_rados.py run them on their
servers)."""
from __future__ import annotations

import subprocess

import pytest

import concurrency_scenarios as scenario
from conftest import vol_env


def test_swmr_readers_never_see_partial_flushes(tmp_path):
    figures = scenario.swmr_readers_see_whole_flushes(str(tmp_path / "swmr.h5"), vol_env(), tmp_path, scenario.SWMR_SECONDS)
    scenario.record("swmr directory", figures)


def test_group_refresh_shows_new_links(tmp_path):
    scenario.group_refresh_shows_new_links(str(tmp_path / "refresh.h5"), vol_env(), tmp_path)


def test_concurrent_writers_lose_nothing(tmp_path):
    figures = scenario.writers_lose_nothing(str(tmp_path / "shared.h5"), vol_env(), tmp_path)
    scenario.record("writers directory", figures)


def test_conflicting_writers_exactly_one_error(tmp_path):
    scenario.conflicting_writers_one_error(str(tmp_path / "conflict.h5"), vol_env(), tmp_path)


def test_killed_writers_and_readers_leave_no_lock_and_no_damage(tmp_path):
    figures = scenario.killed_processes_never_block(str(tmp_path / "killed.h5"), vol_env("H5PyVOL lock=rw"), tmp_path)
    scenario.record("kill -9 directory, lock=rw", figures)


@pytest.mark.parametrize("connector", [None, "H5PyVOL"], ids=["native", "h5pyvol"])
def test_c_swmr_api_like_native(build_c, tmp_path, connector):
    """HDF5's SWMR calls from C (H5Fstart_swmr_write, H5F_ACC_SWMR_READ,
    H5Drefresh, H5Dflush): a reader process sees the writer's rows arrive
    in steps, each one whole; the same program natively prints the same."""
    exe = build_c("swmr_app.c")
    env = vol_env(connector)
    writer = subprocess.Popen([exe, "write", "rows.h5"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    reader = subprocess.Popen([exe, "read", "rows.h5"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    written, werr = writer.communicate(timeout=120)
    read, rerr = reader.communicate(timeout=120)
    assert writer.returncode == 0, werr
    assert reader.returncode == 0, rerr
    assert written.split("\n")[:2] == ["intent swmr_write=1", "wrote 20 rows"], written
    assert read.strip() == "intent swmr_read=1 rows=20 grew in steps", read + rerr
