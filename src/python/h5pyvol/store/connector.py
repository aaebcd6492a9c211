"""The store connector: HDF5 files as Zarr v3 hierarchies on a key-value store.

A file is a Zarr group at the store's root.  Every HDF5 group, dataset and
committed datatype is a node (``<path>/zarr.json``) at the path of the link
it was created under; dataset elements are Zarr chunks.  The hierarchy's
metadata is read when a file opens, kept in memory while it is open, and
written back on flush and close -- after the chunks it describes, so a
killed writer leaves the state of its last flush.  See zarrmeta.py for what
each zarr.json holds.
"""
from __future__ import annotations

import contextlib
import copy
import errno
import json
import os
import struct
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np

from ..api import (DatasetCreation, ExternalLink, H5Attribute, H5Dataset, H5Datatype, H5File, H5Group, H5Object,
                   H5VOL, SoftLink, UserLink)
from ..selection import Selection
from ..types import decode_element, dtype_from_spec, encode_element, has_vlen, spec_from_dtype
from . import names, routing, zarrmeta
from .chunkcache import ChunkCache
from .chunks import DEFAULT_KEY_ENCODING, ChunkCodec, ChunkedArray, is_v2_chunk_key
from .kv import KVStore
from .options import AcceptedKeys, StoreOptions
from .merge import RETRIES, ConflictError, FileChangedError, backoff, merge
from .rwlock import ReadersWriterLock, lock_path
from .zarrmeta import (LAYOUT_VERSION, RESERVED, auto_chunks, b64, compression_from_filters, compressor_codecs,
                       elements_from_json, elements_to_json, spec_from_json, spec_from_zarr, spec_to_json, unb64,
                       zarr_data_type, zarr_fill_value)

METADATA = "zarr.json"
#: the next object id not yet handed to a writer (StoreFile.new_oid)
ID_COUNTER = "%ids"


def _meta_key(path: str) -> str:
    return (path + "/" if path else "") + METADATA


def _token(oid: int) -> bytes:
    return struct.pack("<QQ", oid, 0)


class StoreObject:
    """What every stored HDF5 object adds: its node path, its file-wide id,
    and change tracking: setting any public attribute (and changing links or
    attributes) marks the node for the next flush."""

    node_path: Optional[str] = None
    oid: int = 0
    _tracking = False

    def _register(self, kwargs) -> None:
        f = kwargs.get("file")
        self.oid = kwargs.get("oid") or (f.new_oid() if f is not None else 0)
        self.token = _token(self.oid)
        self.node_path = kwargs.get("node_path")
        if f is not None:
            f.objects[self.oid] = self
        self._tracking = True
        self.touch()

    def touch(self) -> None:
        f = self.__dict__.get("file")
        if f is not None and "dirty" in f.__dict__:
            f.dirty.add(self.oid)

    #: attributes that are not the object's stored state: setting them is no change
    _untracked: frozenset = frozenset()

    def __setattr__(self, key, value):
        object.__setattr__(self, key, value)
        if self._tracking and not key.startswith("_") and key not in self._untracked:
            self.touch()

    def delete_attribute(self, name):
        super().delete_attribute(name)
        self.touch()

    def create_attribute(self, name, **kwargs):
        attr = super().create_attribute(name, **kwargs)
        self.touch()
        return attr

    def flush(self) -> None:
        # H5Dflush/H5Oflush publish the object's extent and attributes to
        # other processes: that is a flush of the file's metadata
        f = self.__dict__.get("file")
        if f is not None and f is not self and f.mode != "r":
            f.flush()

    def refresh(self) -> None:
        """H5Drefresh, H5Grefresh, H5Orefresh: this node as another process
        last flushed it (a node this process changed and has not flushed
        keeps its own state)."""
        f = self.__dict__.get("file")
        if f is not None and self.node_path is not None and self.oid not in f.dirty:
            f.reload(self)

    def ensure_node(self) -> str:
        """The node path, giving an anonymous object a temporary home."""
        if self.node_path is None:
            self.node_path = f"{names.ANONYMOUS}/{self.oid}"
        return self.node_path


class StoreAttribute(H5Attribute):
    """An attribute kept in its object's zarr.json: a write marks the object."""

    def write(self, data):
        super().write(data)
        if isinstance(self.owner, StoreObject):
            self.owner.touch()


class StoreGroup(StoreObject, H5Group):
    attribute_class = StoreAttribute

    def __init__(self, name=None, *args, **kwargs):
        H5Group.__init__(self, name, *args, **kwargs)
        self._register(kwargs)

    def unlink(self, name):
        super().unlink(name)
        self.touch()

    def link(self, name, obj):
        homeless = isinstance(obj, StoreObject) and (obj.node_path is None or obj.node_path.startswith(names.ANONYMOUS))
        path = names.child(self.ensure_node(), name) if homeless else None
        if path is not None and name not in self.links and self.file.kv.fits(path):
            self.file.claim(path, obj)
        super().link(name, obj)
        if homeless:
            if self.file.kv.fits(path):
                self.file.relocate(obj, path)
            else:  # too deep for the backend's keys (S3: 1024 bytes): it stays where it is, linked by id
                obj.ensure_node()


class StoreDatatype(StoreObject, H5Datatype):
    attribute_class = StoreAttribute

    def __init__(self, name=None, *args, **kwargs):
        H5Datatype.__init__(self, name, *args, **kwargs)
        self._register(kwargs)


class StoreDataset(StoreObject, H5Dataset):
    """Elements in Zarr chunks; see chunks.py."""

    attribute_class = StoreAttribute

    def __init__(self, name=None, *args, **kwargs):
        H5Dataset.__init__(self, name, *args, **kwargs)
        self._register(kwargs)
        self._tracking = False
        f = kwargs.get("file")
        spec = self.type_spec or spec_from_dtype(self.dtype)
        self.type_spec = spec
        self.null = self.shape is None
        shape = self.shape or ()
        if kwargs.get("chunk_shape") is not None:
            self.chunk_shape = tuple(kwargs["chunk_shape"])
        elif self.creation.layout == "chunked" and self.creation.chunks:
            self.chunk_shape = tuple(self.creation.chunks)
        else:
            self.chunk_shape = auto_chunks(tuple(n or 1 for n in shape), max(self.dtype.itemsize, 1))
        data_type, endian, encoding = zarr_data_type(spec)
        self.encoding = encoding
        if kwargs.get("codecs") is not None:
            self.codecs = kwargs["codecs"]
        else:
            first = {"name": "vlen-utf8", "configuration": {}} if encoding == "vlen-utf8" else \
                {"name": "bytes", "configuration": {"endian": endian}} if endian else {"name": "bytes"}
            compression = compression_from_filters(self.creation.filters) or (f.vol.compression if f else None)
            self.codecs = [first] + compressor_codecs(compression)
            for codec in self.codecs:  # Blosc shuffles elements of the dataset's size
                if codec["name"] == "blosc":
                    codec["configuration"]["typesize"] = max(self.dtype.itemsize, 1)
        self.chunk_key_encoding = kwargs.get("chunk_key_encoding") or dict(DEFAULT_KEY_ENCODING)
        self._array: Optional[ChunkedArray] = None
        self.shape = None if self.null else tuple(shape)
        self._tracking = True

    def _layout_still_current(self) -> None:
        """A read found chunks missing: fine if they were never written, but
        if another process gave the dataset a new layout since this one read
        it (``h5pyvol rechunk``), the old chunks are being deleted and would
        read as fill values, silently.  An error says so instead."""
        raw = self.file.kv.get(_meta_key(self.node_path)) if self.node_path is not None else None
        if raw is None:
            return
        doc = json.loads(raw)
        grid = tuple(doc.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape", ()))
        if grid != tuple(self.chunk_shape) or doc.get("chunk_key_encoding", DEFAULT_KEY_ENCODING) != \
                self.chunk_key_encoding:
            raise FileChangedError(f"dataset {self.node_path!r} was given a new chunk layout by another process "
                                   f"after this one read it; refresh it (Dataset.refresh, H5Drefresh) or reopen "
                                   f"the file")

    def _chunk_fill(self, chunk_shape) -> np.ndarray:
        array = np.zeros(chunk_shape, dtype=self.dtype)
        fill = self.fill_value()
        if self.dtype.hasobject:
            flat = array.reshape(-1)
            for i in range(flat.size):
                flat[i] = fill
        elif fill is not None:
            array[...] = fill
        return array

    @property
    def array(self) -> ChunkedArray:
        # compared, not serialized: this runs at every read and write
        layout = (self.ensure_node(), tuple(self.chunk_shape), self.chunk_key_encoding)
        if self._array is None or self._array_layout != layout:
            spec = self.type_spec
            try:
                codec = ChunkCodec(self.codecs, self.dtype, self.encoding,
                                   decode_element=lambda raw: decode_element(spec, raw),
                                   encode_element=lambda value: encode_element(spec, value))
            except NotImplementedError as exc:  # valid Zarr this store cannot decode
                raise NotImplementedError(f"{_meta_key(self.ensure_node())!r} of {self.file.kv.describe()}: "
                                          f"{exc}") from None
            except (TypeError, ValueError, KeyError, AttributeError) as exc:  # codec settings that make no sense
                raise OSError(errno.EIO, f"{_meta_key(self.ensure_node())!r} of {self.file.kv.describe()} is "
                                         f"damaged: its codecs: {type(exc).__name__}: {exc}") from None
            self._array = ChunkedArray(self.file.kv, self.ensure_node(), self.shape or (), self.chunk_shape,
                                       self.dtype, codec, self._chunk_fill, self.file.vol.executor,
                                       key_encoding=self.chunk_key_encoding, on_missing=self._layout_still_current)
            self._array_layout = copy.deepcopy(layout)  # the encoding may be changed in place later
        self._array.shape = self.shape or ()
        self._array.cache = self.file.reading_cache()
        return self._array

    def read(self, selection: Selection) -> np.ndarray:
        if self.null:
            return np.empty((0,), dtype=self.dtype)
        return self.array.read(selection)

    def read_into(self, selection: Selection, out: np.ndarray) -> None:
        if self.null:
            return
        self.array.read(selection, out=out.reshape(selection.mshape + self.dtype.shape))

    def write(self, selection: Selection, data: np.ndarray) -> None:
        if not self.null:
            self.array.write(selection, data)

    def resize(self, shape: tuple) -> None:
        if self.creation.layout != "chunked":
            raise ValueError(f"only chunked datasets can change extent ({self.name!r} is {self.creation.layout})")
        for new, limit in zip(shape, self.maxshape):
            if limit is not None and new > limit:
                raise ValueError(f"extent {shape} exceeds the maximum {self.maxshape}")
        self.array.resize(tuple(shape))
        self.shape = tuple(shape)

    def allocate(self) -> None:
        if not self.null:
            self.array.fill_missing()

    def storage_size(self) -> int:
        if self.null or self.node_path is None:
            return 0
        array = self.array
        prefix = array.keys_prefix()
        if array.v2_keys:
            stored = sum(1 for k in self.file.kv.list(prefix) if is_v2_chunk_key(k[len(prefix):], array.separator))
        else:
            stored = sum(1 for k in self.file.kv.list(prefix) if k == prefix or k.startswith(prefix + "/"))
        return min(stored * int(np.prod(self.chunk_shape, dtype=np.int64)) * self.dtype.itemsize,
                   super().storage_size()) if stored else 0


class StoreFile(StoreGroup, H5File):
    """An open file: its store, its objects, and the metadata written last."""

    attribute_class = StoreAttribute
    # what the dispatcher hands every file (its name, connector, itself as
    # its file), the intent it is open with, the flush counter (written with
    # every flush that writes anything) and the lock=rw lock: none is a change
    _untracked = frozenset({"filename", "vol", "file", "mode", "generation", "rw_lock"})

    def __init__(self, name=None, *args, kv: KVStore = None, **kwargs):
        self.objects: dict[int, StoreObject] = {}
        self._next_oid = 1
        self.kv = kv
        self.written: dict[str, str] = {}  # node path -> zarr.json text last written
        self.dirty: set[int] = set()       # ids of objects changed since the last flush
        self.generation = 0                # bumped at every flush that writes (kept in the root)
        # node path ("" the root) -> its zarr.json's version as last read or written (backends with versions)
        self.node_versions: dict[str, Optional[str]] = {}
        # node path -> its zarr.json as the store holds it at node_versions (read or written), and
        # as this writer last meant it (they differ after a merge with another writer's changes)
        self.stored_docs: dict[str, Optional[str]] = {}
        self.base_docs: dict[str, Optional[str]] = {}
        self._ids, self._ids_pid = range(0), 0  # object ids reserved for this writer (new_oid), by process
        self.pid = os.getpid()
        self.rw_lock: Optional[ReadersWriterLock] = None  # the lock=rw mode (rwlock.py)
        self._operations = 0                              # nesting depth of operations holding it
        self.lock = threading.RLock()
        self.chunk_cache = ChunkCache(kwargs["vol"].chunk_cache_bytes if kwargs.get("vol") else 0)
        H5File.__init__(self, name, *args, **kwargs)
        self.file = self
        self.oid = kwargs.get("oid") or self.next_oid()
        self.token = _token(self.oid)
        self.objects[self.oid] = self
        self.node_path = ""
        self._tracking = True

    @contextlib.contextmanager
    def operation(self, kind: str):
        """Brackets one HDF5 operation (``kind`` "read" or "write", see
        _dispatch._GUARDED).  In the lock=rw mode it holds the file's
        readers-writer lock, brings the objects up to what the last writer
        flushed first, and flushes a write before letting go."""
        if self.rw_lock is None:
            yield
            return
        with self.lock:  # this process's operations on the file, one at a time
            outer = self._operations == 0
            if outer:
                self.rw_lock.acquire(exclusive=kind == "write" and self.mode != "r")
            self._operations += 1
            try:
                if outer:
                    self.catch_up()
                yield
                if outer and kind == "write":
                    self.flush()
            finally:
                self._operations -= 1
                if outer:
                    self.rw_lock.release()

    def reading_cache(self) -> Optional[ChunkCache]:
        """The chunk cache reads may use: only while the file is open
        read-only, not for SWMR reading (chunk data is seen as soon as it is
        written, README "Consistency model"), and never in the lock=rw mode,
        whose readers must see each write once its writer lets go."""
        if self.mode != "r" or self.swmr_reader or self.rw_lock is not None or not self.chunk_cache.capacity:
            return None
        return self.chunk_cache

    def catch_up(self) -> None:
        """Re-reads every loaded node if another process flushed since."""
        root = self.kv.get(METADATA)
        if root is None or _generation(root) == self.generation:
            return
        self.reload(self)
        for obj in list(self.objects.values()):
            if obj is not self and obj.node_path is not None and obj.node_path in self.written:
                self.reload(obj)

    def size(self) -> int:
        """Bytes of every key the file's store holds: chunks as they are
        written, metadata as of the last flush or close."""
        return self.kv.total_size()

    def next_oid(self) -> int:
        oid = self._next_oid
        self._next_oid += 1
        return oid

    ID_BLOCK = 1024

    def new_oid(self) -> int:
        """An id for a new object.  Writers that share a store take ids from
        blocks reserved in ID_COUNTER by compare-and-swap, so two processes
        adding objects at once never hand out one id (a token, stored in
        references) twice."""
        if not self.kv.supports_versions:
            return self.next_oid()
        if not self._ids or self._ids_pid != os.getpid():  # a forked child must not share its parent's block
            self._ids, self._ids_pid = self._reserve_ids(), os.getpid()
        oid, self._ids = self._ids[0], self._ids[1:]
        self._next_oid = max(self._next_oid, oid + 1)
        return oid

    def _reserve_ids(self) -> range:
        for _ in range(RETRIES):
            data, version = self.kv.get_versioned(ID_COUNTER)
            start = max(int(data or 0), self._next_oid)
            if self.kv.put_if_version(ID_COUNTER, str(start + self.ID_BLOCK).encode(),
                                      self.kv.ABSENT if data is None else version) is not None:
                return range(start, start + self.ID_BLOCK)
            backoff()
        raise FileChangedError(f"{self.filename!r}: could not reserve object ids, other writers kept taking them")

    def claim(self, path: str, obj: StoreObject) -> None:
        """Takes the node path a new object is linked at, before anything is
        written there (its chunks), so two writers creating one name find
        out at creation: one of them gets an error and writes nothing over
        the other's object."""
        if not self.kv.supports_versions or path in self.written:  # a node this writer had: its own to reuse
            return
        document = _dump(obj)
        version = self.kv.put_if_version(_meta_key(path), document.encode(), self.kv.ABSENT)
        if version is None:
            from ..errors import NameExistsError
            raise NameExistsError(f"{names.decode(path.rpartition('/')[2])!r} was just created by another "
                                  "writer of this file (a link of that name already exists)")
        self.node_versions[path] = version
        self.stored_docs[path] = self.base_docs[path] = self.written[path] = document

    # -- writing metadata ------------------------------------------------------------
    def relocate(self, obj: StoreObject, path: str) -> None:
        """Moves a node (and what lies under it) to ``path``: its keys are
        copied, then deleted, and open objects below it follow."""
        old = obj.node_path
        obj.node_path = path
        if old is None:
            return
        for key in list(self.kv.list(old + "/")):
            value = self.kv.get(key)
            if value is None:  # a listing may name a key whose write never completed
                continue
            if key == _meta_key(old):
                for table in (self.node_versions, self.base_docs, self.stored_docs):
                    table.pop(old, None)
                self._put_node(path, value)
            else:
                self.kv.put(path + key[len(old):], value)
            self.kv.delete(key)
        for other in self.objects.values():
            if other is not obj and other.node_path and other.node_path.startswith(old + "/"):
                other.node_path = path + other.node_path[len(old):]
        self.written = {(path + k[len(old):] if k == old or k.startswith(old + "/") else k): v
                        for k, v in self.written.items()}

    def flush(self) -> None:
        if self.mode == "r":  # a reader never writes (refreshed nodes are not changes)
            return
        with self.lock:
            live = self._live_objects()
            live_paths = {obj.node_path for obj in live}
            changed = [obj for obj in live if obj.oid in self.dirty or obj.node_path not in self.written]
            gone = [p for p in self.written if p not in live_paths]
            self.dirty.clear()
            if not changed and not gone:
                return
            self.generation += 1
            documents = {obj.node_path: _dump(obj) for obj in changed}
            documents[""] = _dump(self)  # the root carries the generation
            owners = {obj.node_path: obj.oid for obj in changed}
            conflicts = []
            # children before parents: a link never points at a node not yet written
            order = sorted(documents, key=lambda p: -p.count("/") - (p != ""))
            for n, path in enumerate(order):
                if self.written.get(path) == documents[path]:
                    continue
                try:
                    self._put_node(path, documents[path].encode())
                except ConflictError as exc:  # that node keeps the other writer's state; the others are written
                    if self.kv.supports_versions and not self.kv.exists(METADATA):
                        # the whole file was deleted while open: as natively (writes to an
                        # unlinked file), nothing comes back; said once, not an error
                        warnings.warn(f"H5PyVOL: {self.filename!r} was deleted while open; changes made since "
                                      "were not written", RuntimeWarning)
                        self.written.update(documents)
                        return
                    conflicts.append(exc)
                    continue
                except BaseException:  # not written (an outage): the next flush tries again
                    self.dirty.update(owners[p] for p in order[n:] if p in owners)
                    raise
                self.written[path] = documents[path]
            for path in gone:
                self._delete_node(path)
                del self.written[path]
            if conflicts:
                more = f" (and {len(conflicts) - 1} more conflicts)" if len(conflicts) > 1 else ""
                raise ConflictError(str(conflicts[0]) + more)

    def _put_node(self, path: str, document) -> None:
        """Where the backend has versions, a node is written only over the
        version this writer last saw; one it made, only while still absent;
        the root of a file this writer created, whose version it never read,
        over whatever is there.  A node another writer changed meanwhile is
        read again and this writer's changes merged into it (merge.py), then
        written over that version, up to RETRIES times; changes that cannot
        be merged raise ConflictError and replace nothing the other wrote."""
        mine = bytes(document).decode()
        if not self.kv.supports_versions:
            self.kv.put(_meta_key(path), mine.encode())
            return
        seen = self.node_versions.get(path, None if path == "" else self.kv.ABSENT)
        base, stored = self.base_docs.get(path), self.stored_docs.get(path)
        # after a merge the store holds more than this writer's documents say: merge again
        text = mine if stored is None or stored == base else self._merged(path, base, mine, stored)
        for _ in range(RETRIES):
            version = self.kv.put_if_version(_meta_key(path), text.encode(), seen)
            if version is not None:
                self.node_versions[path] = version
                self.base_docs[path], self.stored_docs[path] = mine, text
                return
            current, seen = self.kv.get_versioned(_meta_key(path))
            if current is None:
                seen = self.kv.ABSENT
            text = self._merged(path, base, mine, None if current is None else bytes(current).decode())
            backoff()
        raise FileChangedError(f"{self.filename!r}: node {path!r} kept changing under other writers; "
                               f"gave up after {RETRIES} merges")

    def _merged(self, path: str, base: Optional[str], mine: str, theirs: Optional[str]) -> str:
        node = "the root group" if path == "" else repr("/" + "/".join(names.decode(s) for s in path.split("/")))
        try:
            doc = merge(None if base is None else json.loads(base), json.loads(mine),
                        None if theirs is None else json.loads(theirs), node)
        except ConflictError as exc:
            raise ConflictError(f"{self.filename!r}: {exc.what} at the same time as this one; this writer's "
                                "change to it was not written, the other writer's is intact") from None
        return json.dumps(doc, sort_keys=True)

    def reload(self, obj: StoreObject) -> None:
        """Re-reads one node (refresh), keeping the objects it links to."""
        self.chunk_cache.clear()  # refreshed data includes chunks other processes wrote since
        with self.lock:
            loader = _Loader(self)
            loader.by_path.update({o.node_path: o for o in self.objects.values() if o.node_path is not None})
            loader.refresh(obj)

    def _live_objects(self) -> list:
        """Objects still reachable by a link, still open, or the root."""
        live = []
        for oid, obj in list(self.objects.items()):
            linked = obj is self or getattr(obj, "hard_links", 0) > 0
            if linked or getattr(obj, "_h5pyvol_handles", 0) > 0 or getattr(obj, "extra_refcount", 0) > 0:
                if linked:
                    live.append(obj)
            else:
                del self.objects[oid]
                if isinstance(obj, StoreDataset) and obj.node_path is not None:
                    obj.array.delete()
        return live

    def _delete_node(self, path: str) -> None:
        self.node_versions.pop(path, None)
        self.base_docs.pop(path, None)
        self.stored_docs.pop(path, None)
        self.kv.delete(_meta_key(path))
        base = (path + "/" if path else "") + "c"
        self.kv.delete(base)
        self.kv.delete_prefix(base + "/")

    def close(self) -> None:
        # a closed file may be reused at the next open (StoreVOL.closed_files):
        # chunks written meanwhile by others must be read again
        self.chunk_cache.clear()
        try:
            self.flush()
        except BaseException:
            # reported once (a conflict), not again at every later close; the
            # next open reads the store, not this writer's unwritten state
            self.dirty.clear()
            self.vol.forget(self, reusable=False)
            raise
        self.vol.forget(self)


# -- zarr.json documents ---------------------------------------------------------------
def _attributes(obj: H5Object) -> tuple[dict, list]:
    """(Zarr attributes JSON can express, exact descriptions of all)."""
    plain, exact = {}, []
    for name in obj.attribute_names():
        attr = obj.get_attribute(name)
        spec = attr.type_spec or spec_from_dtype(attr.dtype)
        entry = {"name": name, "spec": spec_to_json(spec), "shape": None if attr.shape is None else list(attr.shape),
                 "corder": getattr(attr, "corder", 0), "acpl": b64(getattr(attr, "acpl", None)),
                 "named_type": getattr(getattr(attr, "named_type", None), "node_path", None)}
        value = attr.read() if attr.shape is not None else None
        if value is None:
            entry["data"] = None
        elif has_vlen(spec):
            entry["elements"] = elements_to_json([encode_element(spec, v) for v in np.asarray(value).reshape(-1)]) \
                if spec[0] != "array" else elements_to_json([encode_element(spec, value)])
        else:
            # numpy spreads an array type's dims into the value's shape: store its base elements
            base = attr.dtype.subdtype[0] if attr.dtype.subdtype else attr.dtype
            entry["data"] = b64(np.ascontiguousarray(np.asarray(value).astype(base, copy=False)).tobytes())
        exact.append(entry)
        jsonable = _jsonable(spec, value)
        if jsonable is not None:
            plain[name] = jsonable
    return plain, exact


def _jsonable(spec, value):
    if value is None:
        return None
    kind = spec[0]
    try:
        if kind in ("int", "float") or (kind == "string" and spec[1] < 0):
            result = np.asarray(value).tolist()
        elif kind == "string":
            result = np.char.decode(np.asarray(value), "utf-8", "replace").tolist()
        else:
            return None
        json.dumps(result, allow_nan=False)
        return result.decode("utf-8", "replace") if isinstance(result, bytes) else result
    except (TypeError, ValueError, AttributeError):
        return None


def _links(group: H5Group) -> list:
    out = []
    for name in group.names():
        target = group.get(name)
        entry = {"name": name, "corder": group.creation_order(name)}
        if isinstance(target, SoftLink):
            entry.update(type="soft", path=target.path)
        elif isinstance(target, ExternalLink):
            entry.update(type="external", file=target.filename, path=target.path)
        elif isinstance(target, UserLink):
            entry.update(type="ud", ud_type=target.type, value=b64(target.value))
        else:
            entry.update(type="hard", node=target.node_path)
        out.append(entry)
    return out


def _common(obj) -> dict:
    plain, exact = _attributes(obj)
    return plain, {"version": LAYOUT_VERSION, "id": obj.oid, "attrs": exact,
                   "next_attribute_corder": obj.next_attribute_corder,
                   "track_attr_corder": getattr(obj, "track_attr_corder", False),
                   "created": getattr(obj, "created", 0),
                   "extra_refcount": getattr(obj, "extra_refcount", 0), "users": getattr(obj, "users", 0)}


def _dump(obj) -> str:
    plain, reserved = _common(obj)
    if isinstance(obj, StoreDataset):
        spec = obj.type_spec
        data_type, _, _ = zarr_data_type(spec)
        fill = obj.creation.fillvalue
        doc = {"zarr_format": 3, "node_type": "array", "shape": [0] if obj.null else list(obj.shape),
               "data_type": data_type,
               "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(obj.chunk_shape)}},
               "chunk_key_encoding": obj.chunk_key_encoding,
               "fill_value": zarr_fill_value(spec, obj.dtype, fill), "codecs": obj.codecs,
               "attributes": plain}
        creation = obj.creation
        reserved.update(kind="dataset", spec=spec_to_json(spec), null=obj.null,
                        maxshape=None if obj.maxshape is None else list(obj.maxshape),
                        named_type=getattr(getattr(obj, "named_type", None), "node_path", None),
                        creation={"layout": creation.layout, "chunks": creation.chunks, "filters": creation.filters,
                                  "dcpl": b64(creation.dcpl), "alloc_time": creation.alloc_time,
                                  "fillvalue": (b64(fill) if isinstance(fill, (bytes, bytearray)) else
                                                None if fill is None else {"elements": elements_to_json([fill])})})
    else:
        doc = {"zarr_format": 3, "node_type": "group", "attributes": plain}
        reserved.update(kind="file" if obj.kind == "file" else obj.kind)
        if isinstance(obj, H5Group):
            reserved.update(links=_links(obj), next_link_corder=obj.next_link_corder,
                            track_link_corder=getattr(obj, "track_link_corder", False), gcpl=b64(obj.gcpl),
                            link_storage=getattr(obj, "link_storage", None))
        if isinstance(obj, H5Datatype):
            reserved.update(spec=spec_to_json(obj.type_spec), tcpl=b64(obj.tcpl))
        if isinstance(obj, StoreFile):
            reserved.update(next_id=obj._next_oid, fcpl=b64(obj.fcpl), generation=obj.generation,
                            libver_low=getattr(obj, "libver_low", 0) or 0,
                            regions=getattr(obj, "regions", None) or [])
    doc["attributes"][RESERVED] = reserved
    return json.dumps(doc, sort_keys=True)


# -- reading a file back ------------------------------------------------------------------
def _node_path(value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a node path is {value!r}, not a string")
    return value


# which HDF5 objects each kind of Zarr node holds
_KINDS = {"array": ("dataset",), "group": ("group", "datatype")}


def _parse_node(f: StoreFile, key: str, data: bytes) -> dict:
    """A node's zarr.json, parsed and checked: damage is an error naming
    the key (zarrmeta.node_problem), not a failure somewhere later."""
    try:
        doc = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OSError(errno.EIO, f"{key!r} of {f.kv.describe()} is not valid JSON ({len(data)} bytes): {exc}") from None
    problem = zarrmeta.node_problem(doc)
    if problem is not None:
        raise OSError(errno.EIO, f"{key!r} of {f.kv.describe()} is not a Zarr v3 node: {problem}")
    return doc


class _Loader:
    def __init__(self, f: StoreFile):
        self.f = f
        self.by_path: dict[str, StoreObject] = {"": f}
        self.named_types: list = []

    def document(self, path: str) -> Optional[dict]:
        if self.f.kv.supports_versions:  # versions for conditional updates (StoreFile._put_node)
            data, self.f.node_versions[path] = self.f.kv.get_versioned(_meta_key(path))
        else:
            data = self.f.kv.get(_meta_key(path))
        if data is None:
            return None
        doc = _parse_node(self.f, _meta_key(path), data)
        if self.f.kv.supports_versions:
            self.f.stored_docs[path] = self.f.base_docs[path] = bytes(data).decode()
        reserved = doc.get("attributes", {}).pop(RESERVED, None)
        if reserved is not None:
            doc[RESERVED] = reserved
        return doc

    @contextlib.contextmanager
    def building(self, path: str):
        """Errors while objects are built from the node at ``path`` are the
        node's damage: reported naming its key, not as whatever a missing
        or mistyped entry raised deep inside."""
        try:
            yield
        except (OSError, NotImplementedError):  # already named, or valid Zarr this store cannot read
            raise
        except Exception as exc:  # numpy's dtype parser alone raises SyntaxError for some strings
            raise OSError(errno.EIO, f"{_meta_key(path)!r} of {self.f.kv.describe()} is damaged: "
                                     f"{type(exc).__name__}: {exc}") from exc

    def load(self) -> None:
        root = self.document("")
        if root is None:
            raise FileNotFoundError(f"unable to open file: {self.f.filename!r} has no zarr.json")
        with self.building(""):
            self._load_root(root)

    def _load_root(self, root: dict) -> None:
        reserved = root.get(RESERVED)
        self.f.written[""] = None  # unknown: rewritten at the first flush
        if reserved is None:
            self.load_foreign(root)
        else:
            self.f._next_oid = reserved.get("next_id", 1)
            self.f.generation = reserved.get("generation", 0)
            self.f.oid = reserved.get("id", self.f.oid)
            self.f.token = _token(self.f.oid)
            self.f.fcpl = unb64(reserved.get("fcpl"))
            self.f.regions = reserved.get("regions", [])  # region references' targets
            self.f.libver_low = reserved.get("libver_low", 0)
            self.fill_group(self.f, root, "")
        for target, path in self.named_types:
            target.named_type = self.by_path.get(path)

    def obj(self, path: str):
        if path in self.by_path:
            return self.by_path[path]
        doc = self.document(path)
        if doc is None:
            raise FileNotFoundError(f"node {path!r} is missing from the store")
        with self.building(path):
            return self._build(path, doc)

    def _build(self, path: str, doc: dict):
        reserved = doc.get(RESERVED, {})
        kind = reserved.get("kind") or ("dataset" if doc["node_type"] == "array" else "group")
        if kind not in _KINDS[doc["node_type"]]:
            raise ValueError(f"an object of kind {kind!r} in a Zarr {doc['node_type']}")
        name = "/" + "/".join(names.decode(s) for s in path.split("/"))
        kwargs = dict(file=self.f, oid=reserved.get("id") or self.f.next_oid(), node_path=path)
        if kind == "dataset":
            obj = self.dataset(name, doc, reserved, kwargs)
        elif kind == "datatype":
            obj = self.f.vol.datatype_class(name, type_spec=spec_from_json(reserved["spec"]),
                                            tcpl=unb64(reserved.get("tcpl")), **kwargs)
        else:
            obj = self.f.vol.group_class(name, gcpl=unb64(reserved.get("gcpl")), **kwargs)
        self.by_path[path] = obj
        self.common(obj, doc, reserved)
        if isinstance(obj, H5Group):
            self.fill_group(obj, doc, path)
        self.f.written[path] = None
        return obj

    def refresh(self, obj: StoreObject) -> None:
        """Brings a loaded object up to its node as stored now: extent,
        attributes and, for a group, links (new targets are loaded, known
        ones kept)."""
        path = obj.node_path
        doc = self.document(path)
        if doc is None:  # deleted by another writer: what was read stays readable
            return
        reserved = doc.get(RESERVED, {})
        was_tracking, obj._tracking = obj._tracking, False
        dirty = set(self.f.dirty)  # relinking marks the targets: loading is not a change
        try:
            if isinstance(obj, StoreDataset) and not obj.null:
                obj.shape = tuple(doc["shape"])
            if isinstance(obj, StoreDataset):  # a new layout (h5pyvol rechunk) is seen on refresh
                obj.chunk_shape = tuple(doc["chunk_grid"]["configuration"]["chunk_shape"])
                obj.chunk_key_encoding = doc.get("chunk_key_encoding") or dict(DEFAULT_KEY_ENCODING)
                c = reserved.get("creation")
                if c:
                    obj.creation.chunks = tuple(c["chunks"]) if c.get("chunks") else None
                    obj.creation.dcpl = unb64(c.get("dcpl"))
            obj.attributes = {}
            if obj is self.f:
                self.f.generation = reserved.get("generation", self.f.generation)
            if obj is not self.f or RESERVED not in doc:
                self.common(obj, doc, reserved)
            if isinstance(obj, H5Group):
                for name in list(obj.links):
                    H5Group.unlink(obj, name)
                self.fill_group(obj, doc, path)
        finally:
            obj._tracking = was_tracking
        self.f.written[path] = None
        self.f.dirty.intersection_update(dirty)
        self.f.dirty.discard(obj.oid)
        for target, named in self.named_types:
            target.named_type = self.by_path.get(named)

    def dataset(self, name, doc, reserved, kwargs):
        if reserved:
            spec = spec_from_json(reserved["spec"])
            if zarr_data_type(spec)[0] != doc.get("data_type"):  # what zarr readers go by: must say the same
                raise OSError(errno.EIO, f"{_meta_key(kwargs['node_path'])!r} of {self.f.kv.describe()} is "
                                         f"damaged: data_type {doc.get('data_type')!r}, where its HDF5 type is "
                                         f"stored as {zarr_data_type(spec)[0]!r}")
            c = reserved.get("creation", {})
            fill = c.get("fillvalue")
            fill = elements_from_json(fill["elements"])[0] if isinstance(fill, dict) else unb64(fill)
            creation = DatasetCreation(layout=c.get("layout", "contiguous"),
                                       chunks=tuple(c["chunks"]) if c.get("chunks") else None, fillvalue=fill,
                                       filters=[tuple(x) for x in c.get("filters", [])], dcpl=unb64(c.get("dcpl")),
                                       alloc_time=c.get("alloc_time", "late"))
            shape = None if reserved.get("null") else tuple(doc["shape"])
            maxshape = reserved.get("maxshape")
            maxshape = tuple(maxshape) if maxshape is not None else shape
            if reserved.get("named_type"):
                self.named_types.append((None, _node_path(reserved["named_type"])))
        else:  # written by zarr-python or another Zarr v3 writer
            spec = spec_from_zarr(doc)
            shape = tuple(doc["shape"])
            maxshape = tuple(None for _ in shape)
            dtype = dtype_from_spec(spec)
            fill = doc.get("fill_value")
            creation = DatasetCreation(layout="chunked", chunks=tuple(doc["chunk_grid"]["configuration"]["chunk_shape"]),
                                       fillvalue=_zarr_fill_bytes(spec, dtype, fill))
        ds = self.f.vol.dataset_class(name, dtype=dtype_from_spec(spec), shape=shape, maxshape=maxshape,
                                      creation=creation, type_spec=spec,
                                      chunk_shape=doc["chunk_grid"]["configuration"]["chunk_shape"],
                                      chunk_key_encoding=doc.get("chunk_key_encoding"),
                                      codecs=doc["codecs"], **kwargs)
        if reserved.get("named_type"):
            self.named_types[-1] = (ds, reserved["named_type"])
        return ds

    def common(self, obj, doc, reserved):
        obj.track_attr_corder = reserved.get("track_attr_corder", False)
        obj.created = reserved.get("created", 0)
        obj.extra_refcount = reserved.get("extra_refcount", 0)
        obj.users = reserved.get("users", 0)
        if RESERVED not in doc:
            for name, value in doc.get("attributes", {}).items():
                self.plain_attribute(obj, name, value)
            return
        for entry in reserved.get("attrs", []):
            spec = spec_from_json(entry["spec"])
            shape = None if entry["shape"] is None else tuple(entry["shape"])
            attr = obj.create_attribute(entry["name"], dtype=dtype_from_spec(spec), shape=shape, type_spec=spec,
                                        acpl=unb64(entry.get("acpl")))
            attr.corder = entry.get("corder", 0)
            if entry.get("named_type"):
                self.named_types.append((attr, _node_path(entry["named_type"])))
            if "elements" in entry:
                items = elements_from_json(entry["elements"])
                if spec[0] == "array":
                    attr.write(np.asarray(decode_element(spec, items[0])))
                else:
                    data = np.empty(len(items), dtype=attr.dtype)
                    for i, raw in enumerate(items):
                        data[i] = decode_element(spec, raw)
                    attr.write(data.reshape(shape or ()))
            elif entry.get("data") is not None:
                attr.write(np.frombuffer(unb64(entry["data"]), dtype=attr.dtype).reshape((shape or ()) + attr.dtype.shape))
        obj.next_attribute_corder = reserved.get("next_attribute_corder", len(obj.attributes))

    def plain_attribute(self, obj, name, value):
        """An attribute zarr-python wrote: its type follows the JSON value."""
        array = np.asarray(value)
        if array.dtype.kind == "U" or array.dtype.kind == "O":
            spec = ("string", -1, "utf-8", "nullterm")
            data = np.empty(array.shape, dtype=dtype_from_spec(spec))
            data[...] = array.astype(object)
        elif array.dtype.kind == "b":
            spec = ("enum", ("int", 1, True, "<"), (("FALSE", 0), ("TRUE", 1)))
            data = array.astype(dtype_from_spec(spec))
        elif array.dtype.kind in "iu":
            spec, data = ("int", 8, True, "<"), array.astype("<i8")
        elif array.dtype.kind == "f":
            spec, data = ("float", 8, "<"), array.astype("<f8")
        else:
            return
        attr = obj.create_attribute(name, dtype=dtype_from_spec(spec), shape=array.shape, type_spec=spec)
        attr.write(data)

    def fill_group(self, group, doc, path):
        reserved = doc.get(RESERVED)
        group.track_link_corder = reserved.get("track_link_corder", False) if reserved else False
        if reserved is None:
            return
        if group is self.f:
            self.common(group, doc, reserved)
        for entry in reserved.get("links", []):
            kind = entry["type"]
            if kind == "hard":
                try:
                    target = self.obj(_node_path(entry["node"]))
                except FileNotFoundError as exc:  # the node is gone: the link's document is what is damaged
                    raise OSError(errno.EIO, f"{_meta_key(path)!r} of {self.f.kv.describe()} links "
                                             f"{entry.get('name')!r} to node {entry['node']!r}, which is missing "
                                             f"({exc})") from exc
            elif kind == "soft":
                target = SoftLink(entry["path"])
            elif kind == "external":
                target = ExternalLink(entry["file"], entry["path"])
            else:
                target = UserLink(entry["ud_type"], unb64(entry["value"]))
            H5Group.link(group, entry["name"], target)
            group.link_corder[entry["name"]] = entry.get("corder", 0)
        group.next_link_corder = reserved.get("next_link_corder", len(group.links))
        group.link_storage = reserved.get("link_storage")

    def load_foreign(self, root):
        """A hierarchy another Zarr v3 writer made: children come from listing."""
        self.common(self.f, root, {})
        paths = sorted(k[:-len(METADATA) - 1] for k in self.f.kv.list() if k.endswith("/" + METADATA))
        for path in paths:
            if path.startswith(names.ANONYMOUS):
                continue
            parent_path, _, segment = path.rpartition("/")
            parent = self.by_path.get(parent_path)
            if isinstance(parent, H5Group):
                H5Group.link(parent, names.decode(segment), self.obj(path))


def _holds_keys(kv: KVStore) -> bool:
    try:
        return next(iter(kv.list()), None) is not None
    except OSError:  # cannot even be listed: it says nothing more than "not there"
        return False


def _generation(root_json: bytes) -> Optional[int]:
    try:
        return json.loads(root_json)["attributes"][RESERVED].get("generation")
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def _zarr_fill_bytes(spec, dtype, fill):
    if fill is None or has_vlen(spec):
        return None
    try:
        if isinstance(fill, str) and fill not in ("NaN", "Infinity", "-Infinity"):
            import base64
            raw = base64.b64decode(fill)
            return raw.ljust(dtype.itemsize, b"\0")[:dtype.itemsize]
        return np.asarray(float(fill) if isinstance(fill, str) else fill, dtype=dtype).tobytes()
    except (ValueError, TypeError):
        return None


class ForkSafeExecutor:
    """The connector's chunk-transfer threads.  Threads do not survive
    fork(): a child (multiprocessing's default start) gets a pool of its own
    instead of one whose threads are gone, where work would wait forever."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pid = 0
        self._lock = threading.Lock()

    def _current(self) -> ThreadPoolExecutor:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="h5pyvol-chunk")
                    self._pid = os.getpid()
        return self._pool

    def map(self, *args, **kwargs):
        return self._current().map(*args, **kwargs)

    def submit(self, *args, **kwargs):
        return self._current().submit(*args, **kwargs)


class StoreVOL(H5VOL):
    """HDF5 files as Zarr v3 hierarchies.  The file name picks the backend
    (see routing.py): a path or file:// URL is a directory, mem:// memory.

    Options (connector-info keys, or H5PYVOL_STORE_<KEY> environment
    variables; options.py checks them): ``compression`` (gzip[:level],
    zstd[:level], blosc[:cname[:level]] or none; default none; HDF5
    deflate/zstd filters win), ``workers`` (concurrent chunk transfers,
    default 8), ``chunk_cache`` (MiB of decoded chunks a read-only file
    keeps, see chunkcache.py; default 64, 0 off), ``fsync`` (1: fsync every
    directory write), ``root`` (a directory or URL relative file names are
    placed under, e.g. s3://bucket/run1), ``lock`` (rw: one writer at a
    time).  Object-store backends read their own keys too
    (object-stores/*/README.md).
    """

    file_class = StoreFile
    group_class = StoreGroup
    dataset_class = StoreDataset
    datatype_class = StoreDatatype

    @classmethod
    def accepted_options(cls):
        return AcceptedKeys()

    def __init__(self, **options):
        super().__init__(**options)
        settings = StoreOptions.parse(options)
        self.compression = settings.compression
        self.root = settings.root
        self.executor = ForkSafeExecutor(settings.workers)
        self.fsync = settings.fsync
        self.chunk_cache_bytes = settings.chunk_cache_bytes
        self.lock = settings.lock
        self.open_files: dict[str, StoreFile] = {}
        # Closed files, reused while the store's root says nobody changed them.
        self.closed_files: dict[str, StoreFile] = {}

    def _kv(self, name: str) -> KVStore:
        return routing.backend_for(routing.under_root(self.root, name), self.options, fsync=self.fsync)

    def create_file(self, name, mode):
        kv = self._kv(name)
        key = kv.describe()
        if key in self.open_files:
            raise FileExistsError(f"unable to create file: {name!r} is open")
        self.closed_files.pop(key, None)
        if kv.exists(METADATA) or kv.foreign_object():
            if mode == "w-":
                raise FileExistsError(f"unable to create file: {name!r} exists")
            kv.remove_foreign_object()
            kv.delete_prefix("")
        else:
            kv.prepare_create()
        f = self.file_class(name, vol=self, mode="r+", kv=kv)
        # exclusive creation is decided by the backend, atomically where it
        # can (a directory's link(), S3's If-None-Match): of two processes
        # creating one file with H5F_ACC_EXCL, one gets FileExistsError
        if mode == "w-" and not kv.put_if_absent(METADATA, _dump(f).encode()):
            raise FileExistsError(f"unable to create file: {name!r} was created by another writer")
        f.flush()
        if self.lock == "rw":
            f.rw_lock = ReadersWriterLock(lock_path(kv))
        self.open_files[key] = f
        return f

    def open_file(self, name, mode):
        kv = self._kv(name)
        if mode != "r" and kv.read_only:
            raise PermissionError(kv.read_only)
        key = kv.describe()
        f = self.open_files.get(key)
        if f is not None:
            if mode == "r+":
                f.mode = "r+"
            return f
        root = kv.get(METADATA)
        if root is None:
            if _holds_keys(kv):  # keys, but no root node: lost, or never ours
                raise FileNotFoundError(f"unable to open file: {name!r} holds keys but no zarr.json (its root node "
                                        f"is missing, or it is not an H5PyVOL file)")
            raise FileNotFoundError(f"unable to open file: {name!r} does not exist")
        f = self.closed_files.pop(key, None)
        # a forked child does not reuse its parent's file: its backend's
        # connections (sockets, librados) belong to the parent
        if f is None or _generation(root) != f.generation or f.pid != os.getpid():
            f = self.file_class(name, vol=self, mode=mode, kv=kv)
            if self.lock == "rw":
                f.rw_lock = ReadersWriterLock(lock_path(kv))
            if f.rw_lock is not None:  # lock=rw: never a writer's half-written flush
                f.rw_lock.acquire(exclusive=False)
            try:
                f.objects.clear()
                _Loader(f).load()
                f.objects[f.oid] = f
                f.dirty.clear()  # loading is not a change
            finally:
                if f.rw_lock is not None:
                    f.rw_lock.release()
        f.mode = mode
        self.open_files[key] = f
        return f

    def forget(self, f: StoreFile, reusable: bool = True) -> None:
        key = f.kv.describe()
        if self.open_files.pop(key, None) is f and reusable:
            self.closed_files[key] = f

    def file_exists(self, name):
        try:
            return self._kv(name).exists(METADATA)
        except (ValueError, OSError):
            return False

    def delete_file(self, name):
        kv = self._kv(name)
        self.closed_files.pop(kv.describe(), None)
        if not kv.exists(METADATA):
            raise FileNotFoundError(f"unable to delete file: {name!r} does not exist")
        kv.delete_prefix("")

    def terminate(self):
        # files left open are flushed; one that cannot be (another writer's
        # conflicting change, its store deleted) must not keep the others
        # from it, and at exit there is no caller left to raise to
        for f in list(self.open_files.values()):
            try:
                f.flush()
            except FileChangedError as exc:
                warnings.warn(f"H5PyVOL: a file left open could not be flushed at exit: {exc}", RuntimeWarning)
