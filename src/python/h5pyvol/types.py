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
        size, signed, order = spec[1:4]  # precision and offset may follow: numpy keeps the whole bytes
        return np.dtype(f"{order}{'i' if signed else 'u'}{size}")
    if kind == "float":
        if len(spec) > 3:  # a custom bit layout numpy has no type for: its bytes
            return np.dtype(f"V{spec[1]}", metadata={SPEC_KEY: spec})
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
    if kind == "complex":  # two of a float type (HDF5 2.0)
        base = dtype_from_spec(spec[1])
        if base.kind != "f":  # a custom float layout: its bytes
            return np.dtype(f"V{2 * base.itemsize}", metadata={SPEC_KEY: spec})
        return np.dtype(f"{base.byteorder if base.byteorder in '<>' else '='}c{2 * base.itemsize}")
    if kind == "reference":
        # version-1 references are plain bytes to a connector: an object's
        # token (hobj_ref_t), or a region reference (hdset_reg_ref_t)
        if spec[1] in _OLD_REFERENCE_SIZES:
            return np.dtype(f"V{_OLD_REFERENCE_SIZES[spec[1]]}", metadata={"ref": spec[1], SPEC_KEY: spec})
        return np.dtype("O", metadata={"ref": spec[1], SPEC_KEY: spec})
    raise ValueError(f"unknown HDF5 type spec {spec!r}")


_OLD_REFERENCE_SIZES = {"object": 8, "region": 12}


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


# -- variable-length elements -----------------------------------------------------
# Elements of types holding vlen data cross the bridge one Python value each
# (the format is described in src/c/vlen.c): bytes for fixed-size parts and
# vlen strings, the bytes of all elements for a vlen sequence of fixed-size
# elements, lists for sequences of vlen elements and for arrays, tuples for
# compounds.

def has_vlen(spec) -> bool:
    """Whether elements cross as Python values: they hold vlen data or
    H5R_ref_t references (which C describes as tuples, see src/c/vlen.c)."""
    kind = spec[0]
    if kind == "vlen" or (kind == "string" and spec[1] < 0) or spec == ("reference", "ref"):
        return True
    if kind == "compound":
        return any(has_vlen(m[2]) for m in spec[2])
    if kind == "array":
        return has_vlen(spec[2])
    return False


def _is_empty(value) -> bool:
    # numpy fills new object arrays with 0 or None
    return value is None or (isinstance(value, int) and value == 0)


def decode_element(spec, raw):
    """The Python value of one element that arrived from C."""
    kind = spec[0]
    if spec == ("reference", "ref"):
        return tuple(raw)  # ("object", file, path), ("region", ...), ("attr", ...) or ("null",)
    if kind == "string" and spec[1] < 0:
        if raw is None:  # a NULL string
            return None
        return raw.decode("utf-8", "surrogateescape") if spec[2] == "utf-8" else raw
    if kind == "vlen":
        base = spec[1]
        if has_vlen(base):
            return np.array([decode_element(base, r) for r in raw] + [None], dtype=object)[:-1]
        return np.frombuffer(raw, dtype=dtype_from_spec(base)).copy()
    if kind == "compound" and has_vlen(spec):
        return tuple(decode_element(m[2], r) for m, r in zip(spec[2], raw))
    if kind == "array" and has_vlen(spec):
        out = np.empty(len(raw), dtype=object)
        out[:] = [decode_element(spec[2], r) for r in raw]
        return out.reshape(spec[1])
    return np.frombuffer(raw, dtype=dtype_from_spec(spec))[0]


def encode_element(spec, value):
    """One element in the form C packs (inverse of decode_element)."""
    kind = spec[0]
    if spec == ("reference", "ref"):
        return ("null",) if _is_empty(value) else tuple(value)
    if kind == "string" and spec[1] < 0:
        if _is_empty(value):
            return None  # NULL, as an unwritten element natively
        return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    if kind == "vlen":
        base = spec[1]
        if _is_empty(value):
            return [] if has_vlen(base) else b""
        if has_vlen(base):
            return [encode_element(base, v) for v in value]
        return np.ascontiguousarray(value, dtype=dtype_from_spec(base)).tobytes()
    if kind == "compound" and has_vlen(spec):
        if _is_empty(value):
            value = (None,) * len(spec[2])
        return tuple(encode_element(m[2], value[i]) for i, m in enumerate(spec[2]))
    if kind == "array" and has_vlen(spec):
        flat = np.asarray(value, dtype=object).reshape(-1) if not _is_empty(value) else [None] * int(np.prod(spec[1]))
        return [encode_element(spec[2], v) for v in flat]
    dtype = dtype_from_spec(spec)
    if dtype.subdtype:  # numpy would broadcast each value over an array type's dims
        base, dims = dtype.subdtype
        return np.asarray(value, dtype=base).reshape(dims).tobytes()
    return np.asarray(value, dtype=dtype).tobytes()
