"""A connector method that blocks, under ``call_timeout`` (call_timeout.py):
the HDF5 call fails with an error naming the bound, later calls into the
same connector are refused while the late call runs, HDF5's buffers are
never touched by it after the call failed, and once it has returned the
connector serves again.  The late call is tests/connectors/chaos.py's
``stall`` fault: it blocks while a gate file exists.
"""
from __future__ import annotations

import corpus

SCRIPT = r'''
import sys, os, time
import numpy as np
import h5py

gate = sys.argv[1]

def fails(call, text):
    try:
        call()
    except Exception as exc:
        assert text in str(exc), f"{text!r} not in {exc!r}"
        return str(exc)
    raise AssertionError(f"no error; expected {text!r}")

def wait_until_served(ds):
    # the late call returns once the gate is gone; until then calls are refused
    for _ in range(500):
        try:
            return ds[...]
        except Exception as exc:  # h5py's kind depends on the call refused
            assert "still running" in str(exc), exc
            time.sleep(0.02)
    raise AssertionError("the connector never served again")

with h5py.File("f.h5", "w") as f:
    ds = f.create_dataset("d", data=np.arange(10))
    f.flush()

    # a read that blocks: HDF5's buffer keeps what it had, now and after the late read returns
    open(gate, "w").close()
    out = np.full(10, -5)
    print("read:", fails(lambda: ds.read_direct(out), "did not return within call_timeout=0.5 s"))
    print("refused:", fails(lambda: ds[0], "refused, the connector is still running dataset_read"))
    fails(lambda: f.create_group("g"), "still running")
    os.remove(gate)
    assert (wait_until_served(ds) == np.arange(10)).all()
    assert (out == -5).all(), out

    # a write that blocks: the late write lands the values given, not what the buffer held later
    open(gate, "w").close()
    data = np.full(10, 99)
    print("write:", fails(lambda: ds.__setitem__(Ellipsis, data), "did not return within call_timeout=0.5 s"))
    data[:] = -1
    os.remove(gate)
    assert (wait_until_served(ds) == 99).all(), ds[...]

    ds[...] = np.arange(10) * 2
    f.create_group("g")
with h5py.File("f.h5", "r") as f:
    assert (f["d"][...] == np.arange(10) * 2).all()
    assert "g" in f
print("served again")
'''


def test_a_call_that_blocks_fails_at_the_bound_and_the_connector_serves_once_it_returns(run_py, tmp_path):
    gate = tmp_path / "gate"
    connector = (f"H5PyVOL module=chaos class=ChaosVOL call_timeout=0.5 "
                 f"fault=dataset.read_into:stall:{gate},dataset.write:stall:{gate}")
    result = run_py(SCRIPT.replace("fault=", ""), str(gate), connector=connector)
    assert result.returncode == 0, result.output[-4000:]
    assert "served again" in result.stdout


def test_a_c_program_gets_an_hdf5_error_and_goes_on(run_c, tmp_path):
    """One C process: a blocking method past the bound fails the call with
    the bound in the error; calls that finish within it are untouched."""
    cases = [(f"module=chaos class=ChaosVOL call_timeout=0.3 fault={fault}".encode(), f"t{n}.h5".encode(), "exercise")
             for n, fault in enumerate(["group.names:sleep:3", "dataset.write:sleep:3", "file.flush:sleep:3",
                                        "dataset.write:sleep:0.05"])]
    got = corpus.outcomes(run_c, tmp_path, cases)
    for outcome in got[:3]:
        assert outcome.startswith("failed") and "did not return within call_timeout=0.3 s" in outcome, outcome
    assert got[3] == "ok", got[3]
