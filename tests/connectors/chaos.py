"""A connector that misbehaves in one way (or a few), chosen by its ``fault``
setting, for the bad-input corpus (tests/reliability/test_bad_connectors.py):

    HDF5_VOL_CONNECTOR="H5PyVOL module=chaos class=ChaosVOL fault=dataset.write:raise:ValueError"

``fault`` is ``<target>.<method>:<behaviour>[:<argument>]``; the target is
one of vol, file, group, dataset, attribute; "," joins faults of several
methods.  Behaviours:

- ``raise:<name>``: raises that exception (any built-in, BaseExceptions
  such as SystemExit and KeyboardInterrupt included) with a text naming
  the fault;
- ``return:<kind>``: returns something of the wrong kind instead of the
  method's result (see WRONG);
- ``keep``: calls the method, then keeps every argument (views of HDF5's
  buffers included) beyond the call;
- ``recurse``: calls back into HDF5 (h5py) from inside the callback;
- ``sleep:<seconds>``: blocks that long first, then behaves;
- ``stall:<path>``: blocks while a file at ``path`` exists, then behaves.

Everything else is the in-memory connector.
"""
from __future__ import annotations

import builtins
import os
import time

import numpy as np

from h5pyvol import ArrayDataset, H5File, H5Group, H5VOL
from h5pyvol.api import H5Attribute

#: what ``return:<kind>`` gives back, by kind
WRONG = {
    "none": lambda result: None,
    "string": lambda result: "not what HDF5 asked for",
    "int": lambda result: 12345,
    "negative": lambda result: -7,
    "float": lambda result: 2.5,
    "list": lambda result: [1, 2, 3],
    "dict": lambda result: {"a": 1},
    "object": lambda result: object(),
    "huge": lambda result: 1 << 80,
    "shape": lambda result: np.zeros((3, 3, 3)),
    "dtype": lambda result: np.asarray(result).astype("U5") if result is not None else np.zeros(1, "U5"),
    "empty": lambda result: np.zeros(0),
    "bytes": lambda result: b"\xff\xfe",
    "nested": lambda result: [[1], [2, 3]],
    "bad-iterator": lambda result: _failing_iterator(),
    "self": lambda result: result if result is None else result,
}

_kept: list = []


def _failing_iterator():
    yield "first"
    raise RuntimeError("chaos: the iterator broke after one item")


def _fault_method(name: str, original, behaviour: str, argument: str):
    def method(self, *args, **kwargs):
        if behaviour == "sleep":
            time.sleep(float(argument))
            return original(self, *args, **kwargs)
        if behaviour == "stall":
            while os.path.exists(argument):
                time.sleep(0.02)
            return original(self, *args, **kwargs)
        if behaviour == "raise":
            exc_type = getattr(builtins, argument)
            if issubclass(exc_type, UnicodeError):
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, f"chaos: {name} raised {argument}")
            raise exc_type(f"chaos: {name} raised {argument}")
        if behaviour == "recurse":
            import h5py
            with h5py.File(f"mem://recursed-from-{name}.h5", "w") as inner:
                inner["x"] = [1, 2, 3]
            return original(self, *args, **kwargs)
        result = original(self, *args, **kwargs)
        if behaviour == "keep":
            _kept.append((args, kwargs, result))
            return result
        if behaviour == "return":
            return WRONG[argument](result)
        raise ValueError(f"chaos: unknown behaviour {behaviour!r}")
    method.__name__ = name
    return method


class ChaosDataset(ArrayDataset):
    pass


class ChaosGroup(H5Group):
    pass


class ChaosFile(H5File):
    pass


class ChaosAttribute(H5Attribute):
    pass


class ChaosVOL(H5VOL):
    OPTIONS = ("fault",)
    file_class = ChaosFile
    group_class = ChaosGroup
    dataset_class = ChaosDataset

    def __init__(self, fault: str = "", **options):
        super().__init__(**options)
        faulty_methods: dict = {}  # target -> {method name: faulty method}
        for one in fault.split(","):  # "," joins faults of several methods
            target, _, rest = one.partition(".")
            method, _, rest = rest.partition(":")
            behaviour, _, argument = rest.partition(":")
            original = getattr(self._BASES[target], method)
            faulty_methods.setdefault(target, {})[method] = _fault_method(f"{target}.{method}", original, behaviour,
                                                                          argument)
        for target, methods in faulty_methods.items():
            self._install(target, methods)

    _BASES = {"vol": H5VOL, "file": H5File, "group": H5Group, "dataset": ArrayDataset, "attribute": H5Attribute}

    def _install(self, target: str, methods: dict) -> None:
        if target == "vol":
            # this instance only: the corpus's other connectors stay sane
            self.__class__ = type("FaultyVOL", (type(self),), methods)
            return
        # a class per fault, so connectors of other cases keep their methods
        base = self._BASES[target]
        cls = type(f"Faulty{base.__name__}", ({"file": ChaosFile, "group": ChaosGroup, "dataset": ChaosDataset,
                                               "attribute": ChaosAttribute}[target],), methods)
        if target == "attribute":
            groups = type("AttrGroup", (ChaosGroup,), {"attribute_class": cls})
            files = type("AttrFile", (ChaosFile,), {"attribute_class": cls})
            datasets = type("AttrDataset", (ChaosDataset,), {"attribute_class": cls})
            self.group_class, self.file_class, self.dataset_class = groups, files, datasets
        else:
            setattr(self, f"{target}_class", cls)
