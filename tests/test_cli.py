"""python -m h5pyvol env: export lines for a shell."""
import subprocess
import sys

import h5pyvol
from h5pyvol.paths import hdf5_prefix


def env_output(*args):
    return subprocess.run([sys.executable, "-m", "h5pyvol", "env", *args], capture_output=True, text=True)


def test_env_default():
    out = env_output()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert f"export HDF5_PLUGIN_PATH={h5pyvol.plugin_dir()}" in lines
    assert "export HDF5_VOL_CONNECTOR=H5PyVOL" in lines
    assert any(l.startswith(f"export PATH={hdf5_prefix()}/bin:") for l in lines)
    assert any(l.startswith(f"export LD_LIBRARY_PATH={hdf5_prefix()}/lib") for l in lines)


def test_env_named_connectors():
    assert "export HDF5_VOL_CONNECTOR='H5PyVOL connector=memory'" in env_output("memory").stdout
    out = env_output("python:misbehaving:RefusingVOL").stdout
    assert "export HDF5_VOL_CONNECTOR='H5PyVOL module=misbehaving class=RefusingVOL'" in out


def test_env_unknown_connector():
    out = env_output("nonsense")
    assert out.returncode == 2
    assert "unknown H5PyVOL connector 'nonsense'" in out.stderr


def test_env_lines_work_in_a_shell(tmp_path):
    script = f'eval "$({sys.executable} -m h5pyvol env)" && h5cc -showconfig | grep "HDF5 Version" && echo "$HDF5_VOL_CONNECTOR"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "HDF5 Version: 1.14" in out.stdout
    assert out.stdout.strip().endswith("H5PyVOL")
