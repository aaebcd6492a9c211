"""Many processes on one directory-store file (the scenarios are in
concurrency_scenarios.py; test_s3.py and test_rados.py run them on their
servers)."""
from __future__ import annotations

import concurrency_scenarios as scenario
from conftest import vol_env


def test_swmr_readers_never_see_partial_flushes(tmp_path):
    figures = scenario.swmr_readers_see_whole_flushes(str(tmp_path / "swmr.h5"), vol_env(), tmp_path, scenario.SWMR_SECONDS)
    print(f"\n[swmr directory] {figures}")


def test_concurrent_writers_lose_nothing(tmp_path):
    figures = scenario.writers_lose_nothing(str(tmp_path / "shared.h5"), vol_env(), tmp_path)
    print(f"\n[writers directory] {figures['changes']} changes by 8 writers in {figures['seconds']:.1f} s")


def test_conflicting_writers_exactly_one_error(tmp_path):
    scenario.conflicting_writers_one_error(str(tmp_path / "conflict.h5"), vol_env(), tmp_path)


def test_killed_writers_and_readers_leave_no_lock_and_no_damage(tmp_path):
    figures = scenario.killed_processes_never_block(str(tmp_path / "killed.h5"), vol_env("H5PyVOL lock=rw"), tmp_path)
    print(f"\n[kill -9 directory, lock=rw] {figures}")
