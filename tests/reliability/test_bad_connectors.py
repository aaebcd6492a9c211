"""Connectors that misbehave (tests/connectors/chaos.py: one fault per
connector), driven by a C program through one file's usual life
(tests/c/corpus_app.c, op "exercise"): whatever a connector method does,
raise any exception, return the wrong thing, keep HDF5's buffers, call
back into HDF5, the HDF5 call fails with the exception's text on the
error stack, or succeeds with right values; the process survives every
case in a row, and a file written before them reads back intact.
"""
from __future__ import annotations

import corpus

EXCEPTIONS = ["Exception", "RuntimeError", "ValueError", "TypeError", "KeyError", "IndexError", "AttributeError",
              "OSError", "FileNotFoundError", "FileExistsError", "PermissionError", "NotImplementedError",
              "ZeroDivisionError", "MemoryError", "RecursionError", "AssertionError", "UnicodeDecodeError",
              "StopIteration", "LookupError", "ArithmeticError", "BufferError", "TimeoutError",
              "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException"]
WRONG_RETURNS = ["none", "string", "int", "negative", "float", "list", "dict", "object", "huge", "shape", "dtype",
                 "empty", "bytes", "nested", "bad-iterator"]
# the methods the exercise reaches, per target
METHODS = {
    "vol": ["create_file", "open_file"],
    "file": ["flush", "close", "get", "names", "create_group"],
    "group": ["create_group", "create_dataset", "get", "names", "close"],
    "dataset": ["write", "read_into", "storage_size", "close", "create_attribute", "get_attribute",
                "attribute_names"],
    "attribute": ["read", "write", "close", "storage_size"],
}
# methods whose result the bridge does not use: returning anything is fine
RESULT_UNUSED = {"file.flush", "file.close", "group.close", "dataset.write", "dataset.read_into", "dataset.close",
                 "attribute.write", "attribute.close"}
# methods handed views of HDF5's buffers
BUFFER_METHODS = {"dataset.write", "dataset.read_into", "attribute.write"}
# wrong results that are wrong data, not a wrong kind: only the exercise's
# value checks can tell (the connector is the source of truth for its data)
WRONG_DATA = {"group.names:return:empty": "link iterate (wrong count)",
              "group.names:return:dict": "KeyError: a",  # a dict's keys are names: its 'a' is not a link
              "group.names:return:bad-iterator": "RuntimeError: chaos: the iterator broke after one item",
              "attribute.read:return:int": "attribute read (wrong value)",
              "attribute.read:return:negative": "attribute read (wrong value)",
              "attribute.storage_size:return:int": "attribute storage size",
              "dataset.storage_size:return:int": "ok"}


def expected(fault: str) -> str:
    """"ok", or what the failure's text must contain."""
    spot, _, behaviour = fault.partition(":")
    method = spot.split(".")[1]
    if fault in WRONG_DATA:
        return WRONG_DATA[fault]
    if behaviour.startswith("raise:"):
        name = behaviour.split(":")[1]
        return f"{name}: " + ("'utf-8' codec can't decode byte 0xff in position 0: " if name == "UnicodeDecodeError"
                              else "") + f"chaos: {spot} raised {name}"
    if behaviour == "keep":
        return "kept a reference to HDF5's buffer" if spot in BUFFER_METHODS else "ok"
    if behaviour == "recurse" or behaviour.startswith("sleep:"):
        return "ok"
    if spot in RESULT_UNUSED:
        return "ok"
    return f".{method}() "


def fault_cases() -> list:
    faults = []
    for target, methods in METHODS.items():
        for method in methods:
            faults += [f"{target}.{method}:{b}" for b in ("raise:RuntimeError", "raise:SystemExit", "return:none",
                                                          "return:string", "return:object", "keep", "recurse")]
    for spot in ("dataset.write", "group.create_group", "attribute.read"):
        faults += [f"{spot}:raise:{e}" for e in EXCEPTIONS]
    for spot in ("dataset.read_into", "group.names", "attribute.read", "dataset.storage_size", "group.get",
                 "vol.create_file"):
        faults += [f"{spot}:return:{kind}" for kind in WRONG_RETURNS]
    faults += ["dataset.write:sleep:0.2", "group.names:sleep:0.1"]
    return list(dict.fromkeys(faults))


def test_misbehaving_connectors_fail_the_call_with_their_error_and_the_process_goes_on(run_c, tmp_path):
    faults = fault_cases()
    assert len(faults) >= 200
    cases = [(f"module=chaos class=ChaosVOL fault={fault}".encode(), f"f{n}.h5".encode(), "exercise")
             for n, fault in enumerate(faults)]
    outcomes = corpus.outcomes(run_c, tmp_path, cases)
    wrong = []
    for fault, got in zip(faults, outcomes):
        want = expected(fault)
        good = got == "ok" if want == "ok" else got.startswith("failed") and want in got
        if not good:
            wrong.append(f"{fault}: expected {want!r}, got {got[:400]}")
    assert not wrong, f"{len(wrong)} of {len(faults)} faults:\n" + "\n".join(wrong)


def test_returned_values_are_refused_only_when_they_would_change_meaning():
    """contract.values: booleans for boolean or integer elements and ints
    for floats convert as they are; floats into integers and text into
    numbers (or numbers into text) are refused, naming the method."""
    import numpy as np
    import pytest

    from h5pyvol import contract

    class Owner:
        name = "a"
    for got, dtype in [([True, False], "?"), ([True, False], "<i4"), ([1, 2], "<f8"), ([1, 2], "?"),
                       (["x", "y"], "S1"), ([b"x", b"y"], "U1")]:
        contract.values(np.array(got), Owner(), "read", (2,), np.dtype(dtype))
    for got, dtype in [([1.5, 2.5], "<i4"), (["1", "2"], "<i4"), ([1, 2], "U3"), ([b"1", b"2"], "<f8")]:
        with pytest.raises(TypeError, match=r"Owner\.read\(\) of 'a' returned"):
            contract.values(np.array(got), Owner(), "read", (2,), np.dtype(dtype))
