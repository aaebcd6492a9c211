"""What the project keeps to itself and leaves to the user: secrets never
in a repr, a warning or an error; files made with the user's umask; no
TLS only where the user asked for it, and said so.  (Secrets in errors
from a real server: tests/test_s3.py, test_no_secret_in_any_output.)"""
from __future__ import annotations

import stat
import warnings

import pytest

SECRET = "never-print-me-4711"


def test_s3_settings_never_show_the_secret():
    from h5pyvol_minio.config import S3Config
    config = S3Config.resolve({"endpoint": "http://127.0.0.1:9", "access_key": "me", "secret_key": SECRET,
                               "session_token": SECRET + "-token"}, environ={})
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert "me" in repr(config)  # the access key is an identity, not a secret


@pytest.mark.parametrize("endpoint", [f"http://me:{SECRET}@127.0.0.1:9", f"https://me:{SECRET}@s3.example.com"])
def test_an_endpoint_with_credentials_is_refused_without_repeating_them(endpoint):
    from h5pyvol_minio.config import S3Config
    with pytest.raises(ValueError) as refused:
        S3Config.resolve({"endpoint": endpoint}, environ={})
    assert "carries no credentials" in str(refused.value) and SECRET not in str(refused.value)


def test_plain_http_warns_unless_the_server_is_this_machine():
    from h5pyvol_minio import config
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for endpoint in ("http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000",
                         "https://s3.example.com"):
            config.S3Config.resolve({"endpoint": endpoint}, environ={})
        assert not caught, [str(w.message) for w in caught]
        config.S3Config.resolve({"endpoint": "http://s3.example.com:9000"}, environ={})
    assert len(caught) == 1 and "no TLS" in str(caught[0].message)
    assert config.S3Config.resolve({}, environ={}).secure  # the default endpoint is https


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                         (0o002, 0o664, 0o775)])
def test_directory_store_files_follow_the_umask(run_py, tmp_path, umask, file_mode, dir_mode):
    code = (f"import os, h5py, numpy as np\nos.umask({umask:#o})\n"
            "with h5py.File('made.h5', 'w') as f:\n"
            "    f.create_dataset('g/x', data=np.arange(100), chunks=(10,))\n"
            "    f.attrs['a'] = 1\n")
    result = run_py(code)
    assert result.returncode == 0, result.output
    store = tmp_path / "vol" / "made.h5"
    modes = {p.relative_to(store).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in store.rglob("*")
             if not p.name.startswith(".h5pyvol-")}
    assert modes, "nothing was written"
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (dir_mode if (store / name).is_dir() else file_mode)}
    assert not wrong, f"umask {umask:#o}: {wrong}"
    assert not any(mode & stat.S_IWOTH for mode in modes.values())
