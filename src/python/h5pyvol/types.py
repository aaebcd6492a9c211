"""HDF5 datatypes as "type specs" and numpy dtypes.

The C side describes every HDF5 datatype as a nested tuple (the spec format is
documented in ``src/c/convert.c``).  Connectors see numpy dtypes; a dataset
keeps the spec it was created with, so HDF5 details numpy cannot express
(string padding, enum names, bitfields) survive a round trip.
"""
from __future__ import annotations

import numpy as np

#: numpy dtype metadata key under which the original spec travels
SPEC_KEY = "h5pyvol_spec"


def dtype_from_spec(spec) -> np.dtype:
    """The numpy dtype a connector stores for an HDF5 datatype."""
    kind = spec[0]
    if kind == "int":
        _, size, signed, order = spec
        return np.dtype(f"{order}{'i' if signed else 'u'}{size}")
    if kind == "float":
        _, size, order = spec
        return np.dtype(f"{order}f{size}")
    if kind in ("bitfield", "time"):
        _, size, order = spec
        return np.dtype(f"{order}u{size}", metadata={SPEC_KEY: spec})
    if kind == "opaque":
        return np.dtype(f"V{spec[1]}", metadata={SPEC_KEY: spec})
    if kind == "string":
        _, size, cset, pad = spec
        if size < 0:
            return np.dtype("O", metadata={"vlen": str if cset == "utf-8" else bytes, SPEC_KEY: spec})
        return np.dtype(f"S{size}", metadata={SPEC_KEY: spec})
    if kind == "compound":
        _, size, members = spec
        return np.dtype({
            "names": [m[0] for m in members],
            "formats": [dtype_from_spec(m[2]) for m in members],
            "offsets": [m[1] for m in members],
            "itemsize": size,
        })
    if kind == "enum":
        _, base, members = spec
        return np.dtype(dtype_from_spec(base).str, metadata={"enum": dict(members), SPEC_KEY: spec})
    if kind == "array":
        _, dims, base = spec
        return np.dtype((dtype_from_spec(base), tuple(dims)))
    if kind == "vlen":
        return np.dtype("O", metadata={"vlen": dtype_from_spec(spec[1]), SPEC_KEY: spec})
    if kind == "reference":
        return np.dtype("O", metadata={"ref": spec[1], SPEC_KEY: spec})
    raise ValueError(f"unknown HDF5 type spec {spec!r}")


def spec_from_dtype(dtype) -> tuple:
    """The HDF5 datatype for a numpy dtype, following h5py's conventions."""
    dtype = np.dtype(dtype)
    if dtype.metadata and SPEC_KEY in dtype.metadata:
        return dtype.metadata[SPEC_KEY]
    order = ">" if dtype.byteorder == ">" else "<"
    if dtype.subdtype is not None:
        base, dims = dtype.subdtype
        return ("array", tuple(dims), spec_from_dtype(base))
    if dtype.fields is not None:
        members = tuple((name, dtype.fields[name][1], spec_from_dtype(dtype.fields[name][0]))
                        for name in dtype.names)
        return ("compound", dtype.itemsize, members)
    if dtype.kind == "b":
        return ("enum", ("int", 1, True, "<"), (("FALSE", 0), ("TRUE", 1)))
    if dtype.kind in "iu":
        if dtype.metadata and "enum" in dtype.metadata:
            return ("enum", ("int", dtype.itemsize, dtype.kind == "i", order),
                    tuple(dtype.metadata["enum"].items()))
        return ("int", dtype.itemsize, dtype.kind == "i", order)
    if dtype.kind == "f":
        return ("float", dtype.itemsize, order)
    if dtype.kind == "S":
        return ("string", dtype.itemsize, "ascii", "nullpad")
    if dtype.kind == "V":
        return ("opaque", dtype.itemsize, "")
    if dtype.kind == "O" and dtype.metadata:
        vlen = dtype.metadata.get("vlen")
        if vlen is str:
            return ("string", -1, "utf-8", "nullterm")
        if vlen is bytes:
            return ("string", -1, "ascii", "nullterm")
        if vlen is not None:
            return ("vlen", spec_from_dtype(vlen))
    raise TypeError(f"no HDF5 datatype for numpy dtype {dtype!r}")
