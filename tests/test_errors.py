"""What a user sees when a connector misbehaves or cannot be loaded: an
entry on HDF5's error stack naming the problem, a failed HDF5 call, a host
that keeps running, and data written before still readable."""
import pytest


def test_missing_module_is_named(run_c):
    result = run_c("errors_app.c", "create", connector="H5PyVOL module=no_such_connector class=X")
    assert result.returncode == 3, result.output
    assert "errors_app: H5Fcreate failed" in result.stdout
    assert "cannot import H5PyVOL connector module 'no_such_connector'" in result.stderr
    assert "H5PyVOL-DIAG" in result.stderr


def test_missing_class_is_named(run_c):
    result = run_c("errors_app.c", "create", H5PyVOLModule="misbehaving", H5PyVOLClass="Nope")
    assert result.returncode == 3, result.output
    assert "H5PyVOL connector module 'misbehaving' has no class 'Nope'" in result.stderr


def test_class_that_is_not_a_connector(run_c):
    result = run_c("errors_app.c", "create", connector="H5PyVOL module=misbehaving class=NotAConnector")
    assert result.returncode == 3, result.output
    assert "misbehaving.NotAConnector is not a subclass of h5pyvol.H5VOL" in result.stderr


def test_module_without_class(run_c):
    result = run_c("errors_app.c", "create", H5PyVOLModule="misbehaving")
    assert result.returncode == 3, result.output
    assert "needs both a module and a class" in result.stderr


def test_constructor_exception(run_c):
    result = run_c("errors_app.c", "create", connector="H5PyVOL module=misbehaving class=FailingInitVOL color=red")
    assert result.returncode == 3, result.output
    assert "ValueError: bad options ['color']" in result.stderr


def test_malformed_info_string(run_c):
    result = run_c("errors_app.c", "create", connector="H5PyVOL module=misbehaving class=RefusingVOL oops")
    assert result.returncode == 3, result.output
    assert "bad H5PyVOL connector setting 'oops': expected key=value" in result.stderr


def test_raising_write_fails_the_call_and_keeps_data(run_c):
    result = run_c("errors_app.c", "write", connector="H5PyVOL module=misbehaving class=RefusingVOL")
    assert result.returncode == 0, result.output
    assert "write to bad returned -1" in result.stdout
    assert "good intact" in result.stdout
    assert "RuntimeError: disk on fire while writing /bad (in dataset_write)" in result.stderr
    assert "Traceback" not in result.stderr


def test_failing_iteration_fails_cleanly(run_c):
    result = run_c("errors_app.c", "iterate", connector="H5PyVOL module=misbehaving class=UnlistableVOL")
    assert result.returncode == 0, result.output
    assert "iterate returned -1 after 0 links" in result.stdout
    assert "visit returned -1" in result.stdout
    assert "OSError: listing failed: connection reset (in link_iterate)" in result.stderr


def test_debug_adds_traceback(run_c):
    result = run_c("errors_app.c", "write", connector="H5PyVOL module=misbehaving class=RefusingVOL",
                   H5PYVOL_DEBUG="1")
    assert "Traceback (most recent call last)" in result.stderr
    assert "misbehaving.py" in result.stderr


def test_connector_keeping_a_buffer_view_is_told(run_c):
    result = run_c("errors_app.c", "write", connector="H5PyVOL module=misbehaving class=KeepingVOL")
    assert "kept a reference to HDF5's buffer" in result.stderr


def test_probe_by_native_program_does_not_start_python(run_c):
    """HDF5 asks every VOL plugin in HDF5_PLUGIN_PATH about a file the native
    connector failed to open."""
    result = run_c("probe_app.c", connector=None)
    assert result.returncode == 0, result.output
    assert "open of a missing file returned failure" in result.stdout
    assert "python initialized: 0" in result.stdout
    assert "native file answer = 42" in result.stdout


H5PY_ERRORS = r"""
import h5py, numpy as np
def kind(fn):
    try:
        fn()
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc).splitlines()[0]
    return "no error"
f = h5py.File("e.h5", "w")
f["x"] = np.arange(4)
f.create_dataset("fixed", shape=(2,), maxshape=(None,), chunks=(1,), dtype="i4")
print("missing:", kind(lambda: f["missing"]))
print("missing_deep:", kind(lambda: f["a/b/c"]))
print("exists:", kind(lambda: f.create_group("x")))
print("resize:", kind(lambda: f["fixed"].resize((5,))))
print("still readable:", f["x"][...].tolist())
f.close()
print("readonly:", kind(lambda: h5py.File("e.h5", "r").__setitem__("y", 1)))
"""


@pytest.mark.parametrize("connector", [None, "H5PyVOL module=misbehaving class=FixedSizeVOL"])
def test_h5py_sees_native_exception_types(run_py, connector):
    result = run_py(H5PY_ERRORS, connector=connector)
    assert result.returncode == 0, result.output
    out = result.stdout
    assert "missing: KeyError" in out
    assert "missing_deep: KeyError" in out
    assert "exists: ValueError" in out
    assert "still readable: [0, 1, 2, 3]" in out
    if connector is None:
        assert "resize: no error" in out
    else:
        # h5py picks the class from HDF5's top-level error (RuntimeError for a
        # failed H5Dset_extent, as natively); the connector's text follows.
        assert "resize: RuntimeError" in out
        assert "NotImplementedError: this store cannot resize datasets" in out
    assert "readonly:" in out and "no error" not in out.split("readonly:")[1]


def test_error_stacks_print_after_version1_refusals(run_c):
    # HDF5 1.14 closes its own H5E_VOL message after a version-1 refusal
    # unless the connector keeps it alive; printing then recursed until the
    # stack overflowed (h5py's test_errors died this way)
    result = run_c("v1_refusal_app.c")
    assert result.returncode == 0, result.output
    assert "can't display error stack" not in result.stderr
    assert "object open failed" in result.stderr
    assert "no_such_object" in result.stderr
    printed = int(result.stdout.split("printed")[1])
    assert printed >= 4, result.output
