"""zarr.json documents: HDF5 objects as Zarr v3 nodes.

Every group and dataset is a Zarr v3 node.  What Zarr has no notion of is
kept under the reserved attribute ``"_h5pyvol"`` in the node's zarr.json
(Zarr v3 group metadata admits no other extra key): the exact
HDF5 datatype, links that are not plain children (soft, external,
user-defined, extra hard links), creation order, attributes with their
exact types, committed datatypes, property lists.  See README ("Storage
layout").
"""
from __future__ import annotations

import base64
import json
from typing import Optional

import numpy as np

from ..types import dtype_from_spec, has_vlen

RESERVED = "_h5pyvol"  # the reserved attribute
LAYOUT_VERSION = 1


def b64(data: Optional[bytes]) -> Optional[str]:
    return None if data is None else base64.b64encode(bytes(data)).decode()


def unb64(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else base64.b64decode(text)


def spec_to_json(spec):
    return json.loads(json.dumps(spec))


def spec_from_json(obj):
    """JSON lists back to the tuples of a type spec."""
    if isinstance(obj, list):
        return tuple(spec_from_json(x) for x in obj)
    return obj


# -- elements of variable-length types, as JSON -------------------------------------
def elements_to_json(items) -> list:
    def enc(x):
        if isinstance(x, (bytes, bytearray)):
            return {"b": base64.b64encode(bytes(x)).decode()}
        if isinstance(x, tuple):
            return {"t": [enc(v) for v in x]}
        if isinstance(x, list):
            return [enc(v) for v in x]
        return x
    return [enc(x) for x in items]


def elements_from_json(items) -> list:
    def dec(x):
        if isinstance(x, dict):
            return base64.b64decode(x["b"]) if "b" in x else tuple(dec(v) for v in x["t"])
        if isinstance(x, list):
            return [dec(v) for v in x]
        return x
    return [dec(x) for x in items]


# -- Zarr data types -----------------------------------------------------------------
_NUMERIC = {("int", 1, True): "int8", ("int", 2, True): "int16", ("int", 4, True): "int32",
            ("int", 8, True): "int64", ("int", 1, False): "uint8", ("int", 2, False): "uint16",
            ("int", 4, False): "uint32", ("int", 8, False): "uint64",
            ("float", 2, None): "float16", ("float", 4, None): "float32", ("float", 8, None): "float64"}
BOOL_SPEC = ("enum", ("int", 1, True, "<"), (("FALSE", 0), ("TRUE", 1)))


def zarr_data_type(spec) -> tuple:
    """(data_type, endian or None, element encoding) for a type spec.

    Encodings: "raw" (fixed-size bytes), "vlen-utf8" (Zarr strings) or
    "json" (our own, for variable-length data Zarr cannot describe)."""
    kind = spec[0]
    if spec == BOOL_SPEC:
        return "bool", None, "raw"
    if kind == "enum":
        return zarr_data_type(spec[1])
    if kind == "int":
        return _NUMERIC[("int", spec[1], bool(spec[2]))], "big" if spec[3] == ">" else "little", "raw"
    if kind == "float" and len(spec) == 3 and ("float", spec[1], None) in _NUMERIC:
        return _NUMERIC[("float", spec[1], None)], "big" if spec[2] == ">" else "little", "raw"
    if kind == "complex" and len(spec[1]) == 3 and spec[1][1] in (4, 8):
        return f"complex{16 * spec[1][1]}", "big" if spec[1][2] == ">" else "little", "raw"
    if kind == "string" and spec[1] >= 0:
        return {"name": "null_terminated_bytes", "configuration": {"length_bytes": spec[1]}}, None, "raw"
    if kind == "string":
        return "string", None, "vlen-utf8"
    if has_vlen(spec):
        return {"name": "h5pyvol.elements", "configuration": {}}, None, "json"
    return {"name": "raw_bytes", "configuration": {"length_bytes": dtype_from_spec(spec).itemsize}}, None, "raw"


def zarr_fill_value(spec, dtype: np.dtype, fill) -> object:
    """The Zarr fill_value for a fill element (bytes for fixed types)."""
    data_type, _, encoding = zarr_data_type(spec)
    if encoding == "vlen-utf8":
        return fill if isinstance(fill, str) else (fill.decode() if isinstance(fill, bytes) else "")
    if encoding == "json":
        return None
    raw = fill if isinstance(fill, (bytes, bytearray)) else bytes(dtype.itemsize)
    if isinstance(data_type, dict):
        if data_type["name"] == "null_terminated_bytes":
            return base64.b64encode(bytes(raw).rstrip(b"\0")).decode()
        return base64.b64encode(bytes(raw)).decode()
    value = np.frombuffer(bytes(raw), dtype=dtype)[0]
    if data_type == "bool":
        return bool(value)
    if data_type.startswith("float"):
        return _json_float(value)
    if data_type.startswith("complex"):  # Zarr v3: [real, imaginary]
        return [_json_float(value.real), _json_float(value.imag)]
    return int(value)


def _json_float(value) -> object:
    v = float(value)
    return "NaN" if np.isnan(v) else ("Infinity" if v == np.inf else ("-Infinity" if v == -np.inf else v))


def spec_from_zarr(meta: dict) -> tuple:
    """A type spec for an array zarr-python (or anyone) wrote."""
    data_type = meta["data_type"]
    endian = "<"
    for codec in meta.get("codecs", []):
        if codec.get("name") == "bytes" and codec.get("configuration", {}).get("endian") == "big":
            endian = ">"
    if data_type == "bool":
        return BOOL_SPEC
    if isinstance(data_type, str):
        for (kind, size, signed), name in _NUMERIC.items():
            if name == data_type:
                return ("int", size, signed, endian) if kind == "int" else ("float", size, endian)
        if data_type == "string":
            return ("string", -1, "utf-8", "nullterm")
        if data_type in ("complex64", "complex128"):
            return ("complex", ("float", int(data_type[7:]) // 16, endian))
        raise NotImplementedError(f"Zarr data type {data_type!r} has no HDF5 equivalent in H5PyVOL")
    name, conf = data_type["name"], data_type.get("configuration", {})
    if name == "null_terminated_bytes":
        return ("string", conf["length_bytes"], "ascii", "nullpad")
    if name == "raw_bytes":
        return ("opaque", conf["length_bytes"], "")
    raise NotImplementedError(f"Zarr data type {name!r} has no HDF5 equivalent in H5PyVOL")


# -- codecs -----------------------------------------------------------------------------
BLOSC_NAMES = ("blosclz", "lz4", "lz4hc", "zlib", "zstd")
BLOSC_SHUFFLES = ("noshuffle", "shuffle", "bitshuffle")


def _level(compression: str, text: str, default: int, low: int, high: int) -> int:
    try:
        level = int(text) if text else default
    except ValueError:
        level = None
    if level is None or not low <= level <= high:
        raise ValueError(f"compression={compression!r}: the level is a whole number from {low} to {high}")
    return level


def compressor_codecs(compression: Optional[str]) -> list:
    """Zarr codec entries for "gzip[:level]", "zstd[:level]",
    "blosc[:cname[:level[:shuffle]]]" or None; ValueError for a codec,
    level or option that does not exist (never a silently different one)."""
    if not compression or compression == "none":
        return []
    name, _, rest = compression.partition(":")
    if name == "gzip":
        return [{"name": "gzip", "configuration": {"level": _level(compression, rest, 4, 0, 9)}}]
    if name == "zstd":
        # numcodecs' range: negative levels are zstd's fast modes
        return [{"name": "zstd", "configuration": {"level": _level(compression, rest, 3, -131072, 22),
                                                   "checksum": False}}]
    if name == "blosc":
        cname, _, rest = rest.partition(":")
        level, _, shuffle = rest.partition(":")
        if cname and cname not in BLOSC_NAMES:
            raise ValueError(f"compression={compression!r}: blosc compressors are {', '.join(BLOSC_NAMES)}")
        if shuffle and shuffle not in BLOSC_SHUFFLES:
            raise ValueError(f"compression={compression!r}: blosc shuffles are {', '.join(BLOSC_SHUFFLES)}")
        if ":" in shuffle:
            raise ValueError(f"compression={compression!r}: blosc takes at most cname:level:shuffle")
        return [{"name": "blosc", "configuration": {"cname": cname or "lz4", "clevel": _level(compression, level, 5, 0, 9),
                                                      "shuffle": shuffle or "shuffle", "typesize": 1,
                                                      "blocksize": 0}}]
    raise ValueError(f"unknown compression {compression!r} (gzip[:level], zstd[:level], "
                     f"blosc[:cname[:level[:shuffle]]] or none)")


def compression_from_filters(filters, itemsize: int = 1) -> Optional[str]:
    """HDF5's deflate filter (1) is gzip; with the shuffle filter (2) before
    it, Blosc's zlib with byte shuffling; zstd (32015) is zstd."""
    ids = [f[0] for f in filters or []]
    for filter_id, _flags, values in filters or []:
        if filter_id == 1:
            level = values[0] if values else 4
            return f"blosc:zlib:{level}:shuffle" if 2 in ids else f"gzip:{level}"
        if filter_id == 32015:
            return f"zstd:{values[0] if values else 3}"
    return None


def auto_chunks(shape, itemsize: int, target: int = 1 << 20) -> tuple:
    """Chunk shape of about ``target`` bytes for a contiguous HDF5 dataset."""
    chunks = [max(int(n), 1) for n in shape]
    while chunks and max(chunks) > 1 and int(np.prod(chunks)) * itemsize > target:
        i = int(np.argmax(chunks))
        chunks[i] = (chunks[i] + 1) // 2
    return tuple(chunks)


# -- reading a node: what the loader can rely on ------------------------------------------
def _whole(value, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def node_problem(doc) -> Optional[str]:
    """What makes a parsed zarr.json unusable as a node, or None.  Checked
    before anything is built from it, so that damage is reported as such
    (naming the key) rather than surfacing later as a bridge error.  Valid
    Zarr that H5PyVOL cannot read (a codec or data type it lacks) is not
    damage: it is refused when that array is read."""
    if not isinstance(doc, dict):
        return f"a {type(doc).__name__}, not a JSON object"
    if doc.get("zarr_format") != 3:
        return f"zarr_format is {doc.get('zarr_format')!r}, not 3"
    kind = doc.get("node_type")
    if kind not in ("group", "array"):
        return f"node_type is {kind!r}, not 'group' or 'array'"
    attributes = doc.get("attributes", {})
    if not isinstance(attributes, dict) or not isinstance(attributes.get(RESERVED, {}), dict):
        return "its attributes are not a JSON object"
    if kind == "group":
        return None
    shape = doc.get("shape")
    if not isinstance(shape, list) or not all(_whole(n, 0) for n in shape):
        return f"shape {shape!r} is not a list of whole numbers"
    grid = doc.get("chunk_grid")
    config = grid.get("configuration") if isinstance(grid, dict) else None
    chunks = config.get("chunk_shape") if isinstance(config, dict) else None
    rank = 0 if attributes.get(RESERVED, {}).get("null") else len(shape)  # a NULL dataspace: shape [0], no grid
    if not isinstance(grid, dict) or grid.get("name") != "regular" or not isinstance(chunks, list) \
            or len(chunks) != rank or not all(_whole(n, 1) for n in chunks):
        return f"chunk_grid {grid!r} is not a regular grid of {rank} positive chunk sizes"
    keys = doc.get("chunk_key_encoding", {"name": "default"})
    separator = keys.get("configuration", {}).get("separator", "/") if isinstance(keys, dict) and \
        isinstance(keys.get("configuration", {}), dict) else None
    if not isinstance(keys, dict) or keys.get("name") not in ("default", "v2") or separator not in ("/", "."):
        return f"chunk_key_encoding {keys!r} is not default or v2 with '/' or '.'"
    codecs = doc.get("codecs", [])
    if not isinstance(codecs, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in codecs):
        return f"codecs {codecs!r} are not a list of named codecs"
    return None
