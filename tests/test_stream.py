"""h5pyvol.stream, multitables' API (issue 13), on the directory store and
on native .h5 files; test_s3.py and test_rados.py run the same check on
the object stores."""
from __future__ import annotations

import sys

import concurrency_scenarios as many
import stream_scenarios as stream
from conftest import run, vol_env


def test_streams_a_directory_store(tmp_path):
    many.record("stream directory store", stream.streams_everything(str(tmp_path / "data.h5pyvol"), vol_env(), tmp_path))


def test_streams_a_native_file(tmp_path):
    many.record("stream native .h5", stream.streams_everything(str(tmp_path / "data.h5"), vol_env(None), tmp_path))


def test_a_memory_file_is_refused_with_the_reason(tmp_path):
    code = ("from h5pyvol.stream import Streamer\n"
            "try:\n    Streamer('mem://x')\nexcept ValueError as e:\n    print(e)\n")
    result = run([sys.executable, "-c", code], vol_env(), tmp_path)
    assert "cannot see it" in result.stdout, result.output
