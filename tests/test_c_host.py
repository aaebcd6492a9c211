"""C programs, unchanged, with HDF5_VOL_CONNECTOR=H5PyVOL: the plugin boots
Python from the environment it was installed into."""
import shutil

from conftest import CONNECTORS, run, vol_env


def test_c_app_round_trip_on_default_connector(run_c):
    result = run_c("examples/c_app.c", "demo.h5", pythonpath=False)
    assert result.returncode == 0, result.output
    assert "grid[3][5] = 305" in result.stdout
    assert "sensors/temperature[5] = 17.75" in result.stdout


def test_c_app_without_virtualenv_on_path(run_c):
    # vol_env removes the venv from PATH, VIRTUAL_ENV and PYTHON*: the plugin
    # must still find h5pyvol and numpy from its own location.
    env_keys = vol_env(pythonpath=False)
    assert "VIRTUAL_ENV" not in env_keys and "PYTHONPATH" not in env_keys
    result = run_c("examples/c_app.c", "novenv.h5", pythonpath=False)
    assert result.returncode == 0, result.output


def test_selections_and_type_conversion(run_c):
    result = run_c("selections_app.c")
    assert result.returncode == 0, result.output
    for line in ("strided hyperslab", "union of hyperslabs as double", "point selection as int64",
                 "memory-side selections with conversion"):
        assert "ok " + line in result.stdout


def test_selections_match_native_hdf5(run_c):
    native = run_c("selections_app.c", connector=None)
    assert native.returncode == 0, native.output
    assert run_c("selections_app.c").stdout == native.stdout


def test_legacy_connector_in_current_directory(build_c, tmp_path):
    package = tmp_path / "legacyvol"
    shutil.copytree(CONNECTORS / "legacyvol", package)
    env = vol_env(pythonpath=False, H5PyVOLModule="legacyvol", H5PyVOLClass="LegacyVOL")
    result = run([build_c("legacy_app.c")], env, tmp_path)
    assert result.returncode == 0, result.output
    assert "legacy_app: ok" in result.stdout
    # the legacy connector saw the data itself, through its own method names
    assert (tmp_path / "legacy-writes.log").read_text().split() == ["ints:100"]


def test_connector_selected_by_info_string(run_c):
    result = run_c("legacy_app.c", connector="H5PyVOL module=misbehaving class=RefusingVOL")
    assert result.returncode == 0, result.output


def test_files_groups_links_objects_match_native(run_c):
    native = run_c("objects_app.c", connector=None, HDF5_USE_FILE_LOCKING="FALSE")
    assert native.returncode == 0, native.output
    ours = run_c("objects_app.c")
    assert ours.returncode == 0, ours.output
    assert ours.stdout == native.stdout
    assert "after extend: 1 2 3 0 0 0 0" in ours.stdout
    assert "stopped at index 2" in ours.stdout
    assert "  ext: external" in ours.stdout


def test_references_round_trip_like_native(run_c):
    native = run_c("refs_app.c", connector=None)
    assert native.returncode == 0, native.output
    ours = run_c("refs_app.c")
    assert ours.returncode == 0, ours.output
    assert ours.stdout == native.stdout
    assert "region selects 4 elements: 20 30 40 50" in ours.stdout
    assert "attribute through its reference: 30" in ours.stdout
