"""Fuzzing (hypothesis), bounded in examples so CI's time stays fixed:

- the connector-info parser and the store's settings: any text is parsed
  or refused with ConnectorConfigError / ValueError, nothing else;
- selections against a chunked array: any hyperslab, union of blocks or
  point list, read and written through the store's chunk code (whole,
  ranged, cached, compressed), gives exactly what numpy gives;
- the metadata reader: a valid file whose node documents are mutated at
  random opens, or fails with an error naming the damaged key.

Cases hypothesis finds are kept below as explicit examples (@example, or
a parametrized regression test), so they run first every time.  To look
for more: H5PYVOL_FUZZ=explore H5PYVOL_FUZZ_EXAMPLES=20 pytest
tests/reliability/test_fuzz.py (README, "Reliability").
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from h5pyvol import H5Dataset, registry
from h5pyvol.errors import ConnectorConfigError
from h5pyvol.selection import Selection
from h5pyvol.store.chunkcache import ChunkCache
from h5pyvol.store.chunks import ChunkCodec, ChunkedArray
from h5pyvol.store.connector import StoreVOL
from h5pyvol.store.kv import MemoryKV
from h5pyvol.store.options import StoreOptions

# CI runs the same examples every time (derandomized: a landing never
# hinges on what a random draw found that day); H5PYVOL_FUZZ=explore draws
# new ones, for as many examples as H5PYVOL_FUZZ_EXAMPLES says
EXPLORE = os.environ.get("H5PYVOL_FUZZ") == "explore"
SCALE = int(os.environ.get("H5PYVOL_FUZZ_EXAMPLES", "1"))
BOUNDED = settings(max_examples=300 * SCALE, deadline=None, derandomize=not EXPLORE, database=None,
                   suppress_health_check=[HealthCheck.too_slow])
POOL = ThreadPoolExecutor(4)


# ------------------------------------------------------------------ settings
@BOUNDED
@given(st.text(max_size=200))
@example("compression='zstd")
@example("a=b=c")
@example("root=s3://")
def test_any_info_string_is_parsed_or_refused_clearly(text):
    try:
        options = registry.parse_info(text)
    except ConnectorConfigError:
        return
    options.pop("connector", None)
    try:
        registry.check_options(StoreVOL, options)
        StoreOptions.parse(options, environ={})
    except (ConnectorConfigError, ValueError):
        pass


@BOUNDED
@given(st.sampled_from(["compression", "workers", "chunk_cache", "fsync", "lock", "root"]),
       st.text(max_size=40))
def test_any_value_of_a_known_key_is_taken_or_refused_naming_the_key(key, value):
    try:
        StoreOptions.parse({key: value}, environ={})
    except ValueError as exc:
        assert key in str(exc) or repr(value) in str(exc), str(exc)


# ---------------------------------------------------------------- selections
@st.composite
def arrays_and_selections(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(rank))
    chunks = tuple(draw(st.integers(1, n + 2)) for n in shape)
    kind = draw(st.sampled_from(["hyperslab", "all", "points", "blocks"]))
    if kind == "all":
        return shape, chunks, Selection.all(shape)
    if kind == "points":
        n = draw(st.integers(1, 12))
        points = np.array([[draw(st.integers(0, d - 1)) for d in shape] for _ in range(n)], dtype=np.int64)
        return shape, chunks, Selection("points", shape, points=points)
    if kind == "blocks":
        n = draw(st.integers(1, 3))
        blocks = []
        for _ in range(n):
            lo = [draw(st.integers(0, d - 1)) for d in shape]
            hi = [draw(st.integers(low, d - 1)) for low, d in zip(lo, shape)]
            blocks.append([lo, hi])
        return shape, chunks, Selection("blocks", shape, blocks=np.array(blocks, dtype=np.int64))
    start, stride, count, block = [], [], [], []
    for d in shape:
        b = draw(st.integers(1, d))
        c = draw(st.integers(1, max(1, d // b)))
        s = draw(st.integers(b, max(b, (d - b) // max(1, c - 1)))) if c > 1 else draw(st.integers(1, d))
        top = d - ((c - 1) * s + b)
        if top < 0:
            c, s = 1, max(1, s)
            top = d - b
        start.append(draw(st.integers(0, top)))
        stride.append(s)
        count.append(c)
        block.append(b)
    return shape, chunks, Selection("hyperslab", shape, tuple(start), tuple(stride), tuple(count), tuple(block))


def reference_coordinates(sel: Selection) -> np.ndarray:
    """The selected coordinates in the dense data's order, from the definition."""
    if sel.kind == "all":
        return np.argwhere(np.ones(sel.shape, bool))
    if sel.kind == "points":
        return sel.points
    mask = np.zeros(sel.shape, bool)
    if sel.kind == "blocks":
        for lo, hi in sel.blocks:
            mask[tuple(slice(a, b + 1) for a, b in zip(lo, hi))] = True
        return np.argwhere(mask)
    per_dim = [sorted({s + i * st_ + j for i in range(c) for j in range(b)})
               for s, st_, c, b in zip(sel.start, sel.stride, sel.count, sel.block)]
    grid = np.meshgrid(*per_dim, indexing="ij")
    return np.stack([g.reshape(-1) for g in grid], axis=1)


def chunked(shape, chunks, compression, cache):
    dtype = np.dtype("<f8")
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if compression:
        codecs.append({"name": "zstd", "configuration": {"level": 1, "checksum": False}})
    arr = ChunkedArray(MemoryKV(), "d", shape, chunks, dtype, ChunkCodec(codecs, dtype, "raw"),
                       lambda s: np.full(s, -1.0, dtype), executor=POOL)
    arr.cache = ChunkCache(1 << 20) if cache else None
    return arr


@settings(BOUNDED, max_examples=400 * SCALE)
@given(arrays_and_selections(), st.booleans(), st.booleans())
# found: a write left the chunk cache holding the chunk's old values
@example(((1, 1), (1, 2), Selection("hyperslab", (1, 1), (0, 0), (1, 1), (1, 1), (1, 1))), False, True)
def test_any_selection_reads_and_writes_exactly_what_numpy_does(case, compression, cache):
    shape, chunks, sel = case
    arr = chunked(shape, chunks, compression, cache)
    reference = np.arange(int(np.prod(shape)), dtype="<f8").reshape(shape)
    arr.write(Selection.all(shape), reference)
    coords = reference_coordinates(sel)
    expected = reference[tuple(coords.T)]
    for _ in range(2):  # the second read may come from the cache, or read whole chunks
        got = arr.read(sel)
        np.testing.assert_array_equal(got.reshape(-1), expected)
        assert got.shape == sel.mshape
    values = -np.arange(len(coords), dtype="<f8") - 10
    arr.write(sel, values.reshape(sel.mshape))
    reference[tuple(coords.T)] = values
    np.testing.assert_array_equal(arr.read(Selection.all(shape)), reference)


# ----------------------------------------------------------- metadata reader
def _valid_store():
    vol = StoreVOL()
    f = vol.create_file("mem://fuzz-base.h5", "w")
    g = f.create_group("grp")
    g.create_attribute("n", dtype=np.dtype("<i4"), shape=()).write(np.int32(5))
    from h5pyvol.api import DatasetCreation
    from h5pyvol.types import spec_from_dtype
    ds = g.create_dataset("x", dtype=np.dtype("<i2"), shape=(6, 4), maxshape=(6, 4),
                          creation=DatasetCreation(layout="chunked", chunks=(3, 2)),
                          type_spec=spec_from_dtype(np.dtype("<i2")))
    ds.write(Selection.all((6, 4)), np.arange(24, dtype="<i2").reshape(6, 4))
    f.flush()
    kv = f.kv
    return {key: kv.get(key) for key in kv.list()}


BASE = None
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-3, 10) | st.floats(allow_nan=False) |
                           st.text(max_size=6), lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def opens_or_names_the_key(key: str, path: tuple, value, serial: int) -> None:
    """The valid file with ``value`` put at ``path`` of node document
    ``key``: it opens and reads, or the error names the key."""
    global BASE
    if BASE is None:
        BASE = _valid_store()
    doc = json.loads(BASE[key])
    if not path:
        doc = value
    else:
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    name = f"mem://fuzz-{serial}.h5"
    kv = MemoryKV()
    for k, v in BASE.items():
        kv.put(k, json.dumps(doc).encode() if k == key else v)
    from h5pyvol.store import routing
    routing._memory_stores[name[len("mem://"):]] = kv
    vol = StoreVOL()
    try:
        try:
            f = vol.open_file(name, "r")
        except (OSError, NotImplementedError) as exc:
            assert key in str(exc) or "does not exist" in str(exc), f"{type(exc).__name__}: {exc}"
            return
        # what the mutated document still describes reads, or fails naming
        # the key; a link or attribute it no longer has is a KeyError
        try:
            ds = f.get("grp").get("x")
            if isinstance(ds, H5Dataset):  # a link's node changed to another valid one: a group, the root
                ds.read(Selection.all(ds.shape))
            f.get("grp").get_attribute("n").read()
        except KeyError:
            pass
        except (OSError, ValueError, NotImplementedError) as exc:
            assert key in str(exc) or key.rsplit("/zarr.json", 1)[0] in str(exc), f"{type(exc).__name__}: {exc}"
    finally:
        routing._memory_stores.pop(name[len("mem://"):], None)


@BOUNDED
@given(st.sampled_from(["zarr.json", "grp/zarr.json", "grp/x/zarr.json"]), st.data())
def test_any_damaged_node_document_opens_or_names_the_key(key, data):
    doc = json.loads((BASE or _valid_store())[key])
    path = data.draw(st.sampled_from(list(_paths(doc))))
    opens_or_names_the_key(key, path, data.draw(JSON_VALUES), data.draw(st.integers(0, 1 << 30)))


# what the fuzzer found, each once an error that named no key or blamed another node
@pytest.mark.parametrize("key, path, value", [
    ("grp/x/zarr.json", ("chunk_grid", "configuration"), None),
    ("grp/x/zarr.json", ("chunk_key_encoding",), True),
    ("grp/zarr.json", ("attributes", "_h5pyvol", "attrs", 0, "spec", 3), [None]),  # numpy's SyntaxError
    ("grp/x/zarr.json", ("attributes", "_h5pyvol", "kind"), True),
    ("grp/zarr.json", ("attributes", "_h5pyvol", "attrs", 0, "named_type"), [None]),
    ("zarr.json", ("attributes", "_h5pyvol", "links", 0, "node"), None),
    ("grp/zarr.json", ("attributes", "_h5pyvol", "links", 0, "node"), "0"),  # a node that is not there
    ("grp/zarr.json", ("attributes", "_h5pyvol", "links", 0, "node"), ""),  # the root: valid, not a dataset
])
def test_damage_the_fuzzer_found_names_its_key(key, path, value):
    opens_or_names_the_key(key, path, value, 0)
