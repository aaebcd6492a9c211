"""``h5pyvol copy SRC DST``: a whole HDF5 file from any connector to any other.

Two passes.  The structure pass walks SRC in its own link order (creation
order where SRC tracks it) and makes every group, dataset, committed type,
link and attribute in DST with SRC's own property lists and types, so that
chunking, filters, fill values, creation-order tracking and type details
come along as HDF5 describes them; then DST is flushed.  The data pass moves
datasets piece by piece (a piece is a chunk of DST, or a slab of a dataset
that is not chunked), optionally in worker processes.

A piece is skipped when SRC has no chunk there (it reads as the fill value
in both files) or when DST already has it: a copy that was interrupted is
completed by running it again, moving only what is missing.  An existing
DST that is not (a part of) a copy of SRC is refused unless overwrite.

References are re-made by path in DST (tools/refs.py); every other element
travels as its bytes in the file's own type, so nothing is converted.
"""
from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import h5py
import numpy as np

from .. import files
from ..errors import H5PyVOLError
from ..h5py_compat import hdf5
from . import refs, storeview

SLAB_BYTES = 64 << 20  # a piece of a dataset that is not chunked
FLUSH_SECONDS = 5.0    # DST is flushed at least this often during the data pass


class CopyError(H5PyVOLError):
    pass


@dataclass
class Piece:
    path: str                 # the dataset's path
    index: tuple              # chunk index in DST's grid (or slab number,)
    selection: tuple          # slices of the dataset
    nbytes: int


@dataclass
class Summary:
    objects: int = 0
    pieces: int = 0           # moved
    pieces_skipped: int = 0   # already in DST, or never written in SRC
    bytes: int = 0            # moved
    bytes_skipped: int = 0
    seconds: float = 0.0

    unit: str = "chunks"      # what a piece is: "chunks" (of datasets) or "keys" (of a store)

    def line(self) -> str:
        rate = self.bytes / self.seconds / 1e6 if self.seconds else 0.0
        objects = f"{self.objects} objects, " if self.unit == "chunks" else ""
        return (f"{objects}{self.pieces} {self.unit} ({_size(self.bytes)}) moved, "
                f"{self.pieces_skipped} ({_size(self.bytes_skipped)}) already there or never written, "
                f"{self.seconds:.1f} s, {rate:.1f} MB/s")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# ----------------------------------------------------------------- the walk


def _names_in_order(group: h5py.Group) -> list[str]:
    """Link names in the order HDF5 lists them for this group: creation
    order when tracked, name order otherwise."""
    index = hdf5.H5_INDEX_CRT_ORDER if hdf5.creation_order_tracked(group.id.id) else hdf5.H5_INDEX_NAME
    return [n.decode("utf-8", "surrogateescape") for n in hdf5.link_names(group.id.id, index, hdf5.H5_ITER_INC)]


def _token(obj) -> bytes:
    info = hdf5.object_info(obj.id.id)
    return (info.fileno, bytes(info.token.data))


def _attribute_names(obj) -> list[str]:
    cpl = obj.id.get_create_plist()
    tracked = cpl.get_attr_creation_order() & h5py.h5p.CRT_ORDER_TRACKED if hasattr(cpl, "get_attr_creation_order") else 0
    names = []
    h5py.h5a.iterate(obj.id, lambda name: names.append(name) or None,
                     index_type=h5py.h5.INDEX_CRT_ORDER if tracked else h5py.h5.INDEX_NAME)
    return [n.decode("utf-8", "surrogateescape") for n in names]


class _Structure:
    """The structure pass: DST gets every object, link and attribute of SRC."""

    def __init__(self, src: h5py.File, dst: h5py.File, fresh: bool):
        self.src, self.dst, self.fresh = src, dst, fresh
        self.copied: dict = {}           # SRC object token -> its path in DST
        self.datasets: list[str] = []    # DST paths of datasets with storage of their own
        self.with_attrs: list = []       # (SRC object, DST path), attributes copied after all objects exist
        self.objects = 0

    def run(self) -> None:
        self.copied[_token(self.src)] = "/"
        self.with_attrs.append((self.src, "/"))
        self._group(self.src, "/")
        for source, path in self.with_attrs:
            self._attributes(source, self.dst[path])

    def _differs(self, path: str, what: str):
        raise CopyError(f"{self.dst.filename} exists and is not a copy of {self.src.filename}: {path} {what} "
                        f"(use overwrite to replace it)")

    def _group(self, group: h5py.Group, path: str) -> None:
        for name in _names_in_order(group):
            child_path = path.rstrip("/") + "/" + name
            kind = hdf5.link_info(group.id.id, name.encode("utf-8", "surrogateescape")).type
            if kind not in (hdf5.H5L_TYPE_HARD, hdf5.H5L_TYPE_SOFT, hdf5.H5L_TYPE_EXTERNAL):
                raise CopyError(f"{child_path} is a user-defined link (class {kind}): not copied, since only the "
                                f"program that registered its class can make one")
            link = group.get(name, getlink=True)
            target = self.dst[path]
            if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                self._link(target, name, child_path, link)
                continue
            obj = group[name]
            token = _token(obj)
            if token in self.copied:           # a second hard link to an object copied already
                if name not in target:
                    target[name] = self.dst[self.copied[token]]
                continue
            self.copied[token] = child_path
            self.objects += 1
            if isinstance(obj, h5py.Group):
                if name not in target:
                    h5py.h5g.create(target.id, name.encode(), gcpl=obj.id.get_create_plist())
                elif not isinstance(target.get(name), h5py.Group):
                    self._differs(child_path, "is not a group")
                self.with_attrs.append((obj, child_path))
                self._group(obj, child_path)
            elif isinstance(obj, h5py.Dataset):
                self._dataset(obj, target, name, child_path)
            elif isinstance(obj, h5py.Datatype):
                self._datatype(obj, target, name, child_path)

    def _link(self, target: h5py.Group, name: str, path: str, link) -> None:
        existing = target.get(name, getlink=True)
        if existing is None:
            target[name] = link
        elif type(existing) is not type(link) or vars(existing) != vars(link):
            self._differs(path, f"is a different link ({existing!r})")

    def _datatype(self, obj: h5py.Datatype, target: h5py.Group, name: str, path: str) -> None:
        if name not in target:
            obj.id.copy().commit(target.id, name.encode())
        self.with_attrs.append((obj, path))

    def _dst_type(self, tid: h5py.h5t.TypeID) -> h5py.h5t.TypeID:
        """A dataset's or attribute's type for DST: a committed one is DST's
        copy of it, so DST's objects share it as SRC's do."""
        if not tid.committed():
            return tid
        token = _token(h5py.Datatype(tid))
        if token not in self.copied:  # linked somewhere the walk has not reached yet
            name = h5py.h5i.get_name(tid).decode()
            parent, leaf = name.rsplit("/", 1)
            self.dst.require_group(parent or "/")
            tid.copy().commit(self.dst[parent or "/"].id, leaf.encode())
            self.copied[token] = name
        return self.dst[self.copied[token]].id

    def _dataset(self, obj: h5py.Dataset, target: h5py.Group, name: str, path: str) -> None:
        tid = self._dst_type(obj.id.get_type())
        refs.kind_of_type(tid)  # refuses nested references before anything is written
        if name in target:
            existing = target[name]
            if not isinstance(existing, h5py.Dataset) or existing.shape != obj.shape or \
                    not existing.id.get_type().equal(tid):
                self._differs(path, "is a different dataset")
        else:
            h5py.h5d.create(target.id, name.encode(), tid, obj.id.get_space(), dcpl=obj.id.get_create_plist())
        self.with_attrs.append((obj, path))
        if obj.id.get_space().get_simple_extent_type() != h5py.h5s.NULL and \
                obj.id.get_create_plist().get_layout() != h5py.h5d.VIRTUAL:
            self.datasets.append(path)

    def _attributes(self, source, target) -> None:
        for name in _attribute_names(source):
            encoded = name.encode("utf-8", "surrogateescape")
            attr = h5py.h5a.open(source.id, encoded)
            tid, space = attr.get_type(), attr.get_space()
            if h5py.h5a.exists(target.id, encoded):
                if self.fresh:
                    continue
                h5py.h5a.delete(target.id, encoded)  # an interrupted copy may have left it half-written
            new = h5py.h5a.create(target.id, encoded, self._dst_type(tid), space)
            if space.get_simple_extent_type() != h5py.h5s.NULL:
                _copy_attribute_value(attr, new, tid, self.src, self.dst)


def _copy_attribute_value(attr, new, tid, src: h5py.File, dst: h5py.File) -> None:
    kind = refs.kind_of_type(tid)
    npoints = attr.get_space().get_simple_extent_npoints()
    if kind == "new":
        refs.copy_new_style(npoints, lambda m, b: refs.H5Aread(attr.id, m, b),
                            lambda m, b: refs.H5Awrite(new.id, m, b), src, dst)
    elif kind is not None or _needs_conversion(tid):
        values = np.empty(attr.shape, dtype=attr.dtype)
        attr.read(values)
        if kind is not None:
            values = refs.remade(values, src, dst)
        new.write(values)
    else:
        raw = np.empty(attr.shape, dtype=f"V{tid.get_size()}")
        attr.read(raw, mtype=tid)
        new.write(raw, mtype=tid)


def _raw(dset: h5py.Dataset) -> bool:
    """Whether the dataset's elements move as their bytes (no references,
    nothing variable-length)."""
    tid = dset.id.get_type()
    return refs.kind_of_type(tid) is None and not _needs_conversion(tid)


def _needs_conversion(tid) -> bool:
    """Variable-length data: its bytes in memory are pointers."""
    if tid.detect_class(h5py.h5t.VLEN):
        return True
    return tid.detect_class(h5py.h5t.STRING) and _has_vlen_string(tid)


def _has_vlen_string(tid) -> bool:
    cls = tid.get_class()
    if cls == h5py.h5t.STRING:
        return tid.is_variable_str()
    if cls == h5py.h5t.COMPOUND:
        return any(_has_vlen_string(tid.get_member_type(i)) for i in range(tid.get_nmembers()))
    if cls in (h5py.h5t.ARRAY, h5py.h5t.VLEN):
        return _has_vlen_string(tid.get_super())
    return False


# ---------------------------------------------------------------- the pieces


def pieces_of(dset: h5py.Dataset) -> Iterator[Piece]:
    """DST's chunks (or slabs of SLAB_BYTES along the first axis)."""
    shape, itemsize = dset.shape, dset.id.get_type().get_size()
    if dset.chunks:
        grid = [range(math.ceil(n / c)) for n, c in zip(shape, dset.chunks)]
        for index in itertools.product(*grid):
            sel = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, dset.chunks, shape))
            yield Piece(dset.name, index, sel, int(np.prod([s.stop - s.start for s in sel])) * itemsize)
        return
    if not shape:
        yield Piece(dset.name, (), (), itemsize)
        return
    row = int(np.prod(shape[1:])) * itemsize
    rows = max(1, SLAB_BYTES // max(row, 1))
    for number, start in enumerate(range(0, shape[0], rows)):
        stop = min(start + rows, shape[0])
        yield Piece(dset.name, (number,), (slice(start, stop),) + tuple(slice(0, n) for n in shape[1:]),
                    (stop - start) * row)


class _Presence:
    """Which chunks a file has: from the store's keys, or HDF5's chunk
    index for a native file; None where it cannot tell."""

    def __init__(self, f: h5py.File):
        self.f = f
        self.kv = storeview.open_kv(f.filename) if files.connector_of(f) == files.STORE else None

    def chunks(self, dset: h5py.Dataset) -> Optional[Callable[[tuple], bool]]:
        if not dset.chunks:
            return None
        if self.kv is None:
            def native(index):
                offset = tuple(i * c for i, c in zip(index, dset.chunks))
                return dset.id.get_chunk_info_by_coord(offset).byte_offset is not None
            return native
        node = storeview.node_of(self.kv, dset.name)
        doc = storeview.document(self.kv, node) if node is not None else None
        if doc is None or storeview.chunk_grid(doc) != tuple(dset.chunks):
            return None
        present = storeview.present_chunks(self.kv, node)
        return present.__contains__


def _spaces(dset: h5py.Dataset, piece: Piece, points_only: bool = False):
    """(memory space, the dataset's file space selecting the piece); the
    memory space is one-dimensional with ``points_only``."""
    fspace = dset.id.get_space()
    if not piece.selection:
        return h5py.h5s.create(h5py.h5s.SCALAR), fspace
    count = tuple(s.stop - s.start for s in piece.selection)
    fspace.select_hyperslab(tuple(s.start for s in piece.selection), count)
    return h5py.h5s.create_simple((int(np.prod(count)),) if points_only else count), fspace


def read_raw(dset: h5py.Dataset, piece: Piece) -> np.ndarray:
    """The piece's elements as their bytes in the file's type (no conversion)."""
    tid = dset.id.get_type()
    raw = np.empty(tuple(s.stop - s.start for s in piece.selection), dtype=f"V{tid.get_size()}")
    mspace, fspace = _spaces(dset, piece)
    dset.id.read(mspace, fspace, raw, mtype=tid)
    return raw


def write_raw(dset: h5py.Dataset, piece: Piece, raw: np.ndarray) -> None:
    mspace, fspace = _spaces(dset, piece)
    dset.id.write(mspace, fspace, raw, mtype=dset.id.get_type())


def move_piece(src: h5py.File, dst: h5py.File, piece: Piece) -> None:
    sds, dds = src[piece.path], dst[piece.path]
    tid = sds.id.get_type()
    kind = refs.kind_of_type(tid)
    if kind == "new":
        mspace, fspace = _spaces(sds, piece, points_only=True)
        _, dspace = _spaces(dds, piece)
        refs.copy_new_style(mspace.get_simple_extent_npoints(),
                            lambda m, b: refs.H5Dread(sds.id.id, m, mspace.id, fspace.id, 0, b),
                            lambda m, b: refs.H5Dwrite(dds.id.id, m, mspace.id, dspace.id, 0, b), src, dst)
    elif kind is not None or _needs_conversion(tid):
        values = sds[piece.selection] if piece.selection else sds[()]
        if kind is not None:
            values = refs.remade(np.asarray(values), src, dst)
        dds[piece.selection if piece.selection else ()] = values
    else:
        write_raw(dds, piece, read_raw(sds, piece))


# ------------------------------------------------------------------ the copy


def _open_destination(dst_name: str, src: h5py.File, overwrite: bool, dst_format: Optional[str]):
    """(DST open for writing, whether it is new)."""
    kind = files.kind_of(dst_name, dst_format)
    exists = os.path.exists(dst_name) if kind == files.NATIVE and not files.is_url(dst_name) else \
        _store_exists(dst_name)
    if exists and not overwrite:
        try:
            return files.open_file(dst_name, "r+", format=kind), False
        except Exception as exc:
            raise CopyError(f"{dst_name} exists and cannot be opened to complete a copy into it ({exc}); "
                            f"use overwrite to replace it") from exc
    fcpl = src.id.get_create_plist()
    return files.open_file(dst_name, "w", format=kind, fcpl=fcpl), True


def _same_name(a: str, b: str) -> bool:
    def canonical(name):
        return name if files.is_url(name) and not name.startswith("file://") else \
            os.path.realpath(name[len("file://"):] if name.startswith("file://") else name)
    return canonical(a) == canonical(b)


def _store_exists(name: str) -> bool:
    try:
        kv = storeview.open_kv(name)
        return kv.exists("zarr.json")
    except FileNotFoundError:
        return False


def copy(src: str, dst: str, *, progress: bool | Callable = False, jobs: int = 1, overwrite: bool = False,
         dst_format: Optional[str] = None, src_format: Optional[str] = None) -> Summary:
    """Copies the HDF5 file ``src`` to ``dst`` (names as files.kind_of reads
    them), completing an interrupted copy into an existing ``dst``.  Returns
    what it moved.  ``progress``: True for a bar on stderr (when it is a
    terminal), or a callable ``(moved_bytes, total_bytes)``."""
    from .progress import Progress
    if dst.startswith("zip://") or (not files.is_url(dst) and dst.lower().endswith(".zip")):
        raise CopyError(f"{dst}: archives are written by h5pyvol pack (a copy needs a writable destination)")
    if _same_name(src, dst):
        raise CopyError(f"{src} and {dst} are the same file")
    started = time.monotonic()
    summary = Summary()
    with files.open_file(src, "r", format=src_format) as sf:
        df, fresh = _open_destination(dst, sf, overwrite, dst_format)
        try:
            structure = _Structure(sf, df, fresh)
            structure.run()
            df.flush()
            summary.objects = structure.objects
            plan = _plan(sf, df, structure.datasets, fresh)
            summary.pieces_skipped = len(plan.skipped)
            summary.bytes_skipped = sum(p.nbytes for p in plan.skipped)
            bar = Progress(progress, total_bytes=plan.total, total_objects=structure.objects,
                           done_bytes=summary.bytes_skipped)
            with bar:
                bar.objects_done(structure.objects)
                serial, parallel = plan.todo, []
                in_memory = src.startswith("mem://") or dst.startswith("mem://")  # one process's files
                if jobs > 1 and len(plan.todo) > 1 and not in_memory:
                    into_store = files.connector_of(df) == files.STORE
                    # into a native file the workers only read, and only what moves as raw bytes
                    parallel = [p for p in plan.todo if into_store or _raw(sf[p.path])]
                    serial = [p for p in plan.todo if not (into_store or _raw(sf[p.path]))]
                last_flush = time.monotonic()
                for piece in serial:
                    move_piece(sf, df, piece)
                    summary.pieces += 1
                    summary.bytes += piece.nbytes
                    bar.advance(piece.nbytes)
                    if time.monotonic() - last_flush > FLUSH_SECONDS:
                        df.flush()
                        last_flush = time.monotonic()
                if parallel:
                    from .parallel import move_in_workers
                    df.close()
                    df = None
                    move_in_workers(src, dst, src_format, dst_format, parallel, jobs, bar, summary)
        finally:
            if df is not None:
                df.close()
    summary.seconds = time.monotonic() - started
    return summary


@dataclass
class _Plan:
    todo: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.nbytes for p in self.todo) + sum(p.nbytes for p in self.skipped)


def _plan(sf: h5py.File, df: h5py.File, datasets: list, fresh: bool) -> _Plan:
    plan = _Plan()
    src_has, dst_has = _Presence(sf), (None if fresh else _Presence(df))
    for path in datasets:
        sds, dds = sf[path], df[path]
        if sds.id.get_storage_size() == 0:  # never written: reads as the fill value in both files
            plan.skipped.extend(pieces_of(dds))
            continue
        in_src = src_has.chunks(sds) if sds.chunks == dds.chunks else None
        in_dst = dst_has.chunks(dds) if dst_has is not None else None
        for piece in pieces_of(dds):
            if (in_src is not None and not in_src(piece.index)) or (in_dst is not None and in_dst(piece.index)):
                plan.skipped.append(piece)
            else:
                plan.todo.append(piece)
    return plan
