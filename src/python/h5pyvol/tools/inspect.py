"""``h5pyvol ls``, ``info`` and ``check``: what a file holds, and whether
all of it can be read.  Any connector: native files, stores, archives."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import h5py
import numpy as np

from .. import files
from ..h5py_compat import hdf5
from ..store.connector import METADATA
from . import storeview
from .copy import _attribute_names, _names_in_order, _size, _token, pieces_of


# ------------------------------------------------------------------------ ls


def _extent(dset: h5py.Dataset) -> str:
    space = dset.id.get_space()
    kind = space.get_simple_extent_type()
    if kind == h5py.h5s.NULL:
        return "NULL"
    if kind == h5py.h5s.SCALAR:
        return "SCALAR"
    dims, maxdims = space.get_simple_extent_dims(), space.get_simple_extent_dims(True)
    parts = [str(d) if m == d else f"{d}/{'Inf' if m == h5py.h5s.UNLIMITED else m}" for d, m in zip(dims, maxdims)]
    return "{" + ", ".join(parts) + "}"


def ls_lines(name: str, recursive: bool = False) -> Iterator[str]:
    """Lines as h5ls prints them: a name, then what it is."""
    with files.open_file(name, "r") as f:
        seen: dict = {_token(f): "/"}
        if recursive:
            yield f"{'/':<24} Group"
        yield from _ls_group(f, f, "/", recursive, seen)


def _ls_group(f, group, path: str, recursive: bool, seen: dict) -> Iterator[str]:
    # in name order, as h5ls lists (whatever order the group tracks)
    names = [n.decode("utf-8", "surrogateescape")
             for n in hdf5.link_names(group.id.id, hdf5.H5_INDEX_NAME, hdf5.H5_ITER_INC)]
    for link_name in names:
        child = path.rstrip("/") + "/" + link_name
        shown = child if recursive else link_name
        link = group.get(link_name, getlink=True)
        if isinstance(link, h5py.SoftLink):
            yield f"{shown:<24} Soft Link {{{link.path}}}"
            continue
        if isinstance(link, h5py.ExternalLink):
            yield f"{shown:<24} External Link {{{link.filename}/{link.path}}}"
            continue
        obj = group[link_name]
        token = _token(obj)
        if token in seen:
            yield f"{shown:<24} {_what(obj).split(' ')[0]}, same as {seen[token]}"
            continue
        seen[token] = child
        yield f"{shown:<24} {_what(obj)}"
        if recursive and isinstance(obj, h5py.Group):
            yield from _ls_group(f, obj, child, recursive, seen)


def _what(obj) -> str:
    if isinstance(obj, h5py.Dataset):
        return f"Dataset {_extent(obj)}"
    if isinstance(obj, h5py.Group):
        return "Group"
    return "Type"


# ---------------------------------------------------------------------- info


@dataclass
class Info:
    name: str
    backend: str
    groups: int = 0
    datasets: int = 0
    types: int = 0
    soft_links: int = 0
    external_links: int = 0
    attributes: int = 0
    logical_bytes: int = 0
    stored_bytes: int = 0
    chunks_stored: int = 0
    chunks_in_grids: int = 0
    dataset_rows: list = field(default_factory=list)

    def lines(self, verbose: bool = False) -> list[str]:
        ratio = f" ({self.logical_bytes / self.stored_bytes:.2f}x)" if self.stored_bytes else ""
        out = [
            f"file:      {self.name}",
            f"backend:   {self.backend}",
            f"objects:   {self.groups} groups, {self.datasets} datasets, {self.types} committed types, "
            f"{self.attributes} attributes",
            f"links:     {self.soft_links} soft, {self.external_links} external",
            f"data:      {_size(self.logical_bytes)} in datasets, {_size(self.stored_bytes)} stored{ratio}",
            f"chunks:    {self.chunks_stored} stored of {self.chunks_in_grids} in the chunk grids",
        ]
        if verbose:
            out.append("")
            out.append(f"{'dataset':<32} {'shape':<20} {'type':<12} {'chunks':<16} {'stored':>8}")
            for path, shape, dtype, chunks, stored in self.dataset_rows:
                out.append(f"{path:<32} {shape:<20} {dtype:<12} {chunks:<16} {stored:>8}")
        return out


def _backend(name: str, f: h5py.File) -> str:
    if files.connector_of(f) == files.NATIVE:
        return "native HDF5 file"
    kv = storeview.open_kv(name)
    kind = type(kv).__name__.replace("KV", "")
    return f"H5PyVOL store ({kind}: {kv.describe()})"


def info(name: str) -> Info:
    with files.open_file(name, "r") as f:
        result = Info(name, _backend(name, f))
        store = storeview.open_kv(name) if files.connector_of(f) == files.STORE else None
        result.stored_bytes = store.total_size() if store is not None else f.id.get_filesize()
        seen = set()

        def visit(group):
            result.attributes += len(_attribute_names(group))
            for link_name in _names_in_order(group):
                link = group.get(link_name, getlink=True)
                if isinstance(link, h5py.SoftLink):
                    result.soft_links += 1
                    continue
                if isinstance(link, h5py.ExternalLink):
                    result.external_links += 1
                    continue
                obj = group[link_name]
                token = _token(obj)
                if token in seen:
                    continue
                seen.add(token)
                if isinstance(obj, h5py.Group):
                    result.groups += 1
                    visit(obj)
                    continue
                result.attributes += len(_attribute_names(obj))
                if isinstance(obj, h5py.Datatype):
                    result.types += 1
                    continue
                result.datasets += 1
                _dataset_info(result, obj, store)

        visit(f)
        return result


def _dataset_info(result: Info, dset: h5py.Dataset, store) -> None:
    size = dset.id.get_type().get_size()
    result.logical_bytes += (dset.size or 0) * size
    stored = "-"
    if dset.chunks:
        grid = math.prod(math.ceil(n / c) for n, c in zip(dset.shape, dset.chunks))
        result.chunks_in_grids += grid
        count = None
        if store is not None:
            node = storeview.node_of(store, dset.name)
            if node is not None:
                count = len(storeview.present_chunks(store, node))
        else:
            try:
                count = dset.id.get_num_chunks()
            except Exception:
                count = None
        if count is not None:
            result.chunks_stored += count
            stored = f"{count}/{grid}"
    dtype = str(dset.dtype) if not dset.dtype.names else f"compound({len(dset.dtype.names)})"
    result.dataset_rows.append((dset.name, str(dset.shape), dtype, str(dset.chunks), stored))


# --------------------------------------------------------------------- check


@dataclass
class Problem:
    where: str
    what: str

    def line(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class CheckReport:
    objects: int = 0
    attributes: int = 0
    pieces: int = 0
    keys: int = 0
    problems: list = field(default_factory=list)
    unreferenced: list = field(default_factory=list)  # store keys under no node any link reaches


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def check(name: str, progress: Optional[Callable] = None) -> CheckReport:
    """Reads every object, attribute and element of ``name``; for a store,
    parses every node's document and accounts for every key."""
    report = CheckReport()
    store = None
    nodes_reached: set = set()
    if files.kind_of(name) == files.STORE:
        store = storeview.open_kv(name)  # its documents are checked even when the file cannot be opened
        _check_documents(store, report)
    try:
        f = files.open_file(name, "r")
    except Exception as exc:
        report.problems.append(Problem(name, f"cannot be opened: {_reason(exc)}"))
        return report
    with f:
        seen: set = set()

        def visit(group, path):
            for attr in _safe(report, path, lambda: _attribute_names(group)) or []:
                _check_attribute(report, group, path, attr)
            names = _safe(report, path, lambda: _names_in_order(group))
            for link_name in names or []:
                child = path.rstrip("/") + "/" + link_name
                link = _safe(report, child, lambda: group.get(link_name, getlink=True))
                if link is None or isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                    continue  # dangling soft and external links are allowed, as natively
                obj = _safe(report, child, lambda: group[link_name])
                if obj is None:
                    continue
                token = _token(obj)
                if token in seen:
                    continue
                seen.add(token)
                report.objects += 1
                if store is not None:
                    node = storeview.node_of(store, child)
                    if node is not None:
                        nodes_reached.add(node)
                if isinstance(obj, h5py.Group):
                    visit(obj, child)
                    continue
                for attr in _safe(report, child, lambda: _attribute_names(obj)) or []:
                    _check_attribute(report, obj, child, attr)
                if isinstance(obj, h5py.Dataset):
                    _check_dataset(report, obj, child, progress)

        nodes_reached.add("")
        visit(f, "/")
    if store is not None:
        report.unreferenced = _unreferenced_keys(store, nodes_reached)
    return report


def _safe(report: CheckReport, where: str, call):
    try:
        return call()
    except Exception as exc:
        report.problems.append(Problem(where, _reason(exc)))
        return None


def _check_attribute(report: CheckReport, obj, path: str, name: str) -> None:
    report.attributes += 1
    try:
        attr = h5py.h5a.open(obj.id, name.encode("utf-8", "surrogateescape"))
        if attr.get_space().get_simple_extent_type() != h5py.h5s.NULL:
            tid = attr.get_type()
            raw = np.empty(attr.shape, dtype=f"V{tid.get_size()}") if not tid.detect_class(h5py.h5t.VLEN) and \
                not (tid.get_class() == h5py.h5t.STRING and tid.is_variable_str()) else np.empty(attr.shape, attr.dtype)
            attr.read(raw, mtype=tid if raw.dtype.kind == "V" else None)
    except Exception as exc:
        report.problems.append(Problem(f"{path} attribute {name!r}", _reason(exc)))


def _check_dataset(report: CheckReport, dset: h5py.Dataset, path: str, progress) -> None:
    from .copy import _raw, read_raw
    if dset.id.get_space().get_simple_extent_type() == h5py.h5s.NULL:
        return
    raw = _safe(report, path, lambda: _raw(dset))
    for piece in pieces_of(dset):
        report.pieces += 1
        try:
            if raw:
                read_raw(dset, piece)
            else:
                dset[piece.selection] if piece.selection else dset[()]
        except Exception as exc:
            where = f"{path} chunk {piece.index}" if dset.chunks else f"{path} elements {piece.selection}"
            report.problems.append(Problem(where, _reason(exc)))
        if progress:
            progress(piece.nbytes)


def _check_documents(store, report: CheckReport) -> None:
    for key in store.list(""):
        report.keys += 1
        if key.split("/")[-1] != METADATA:
            continue
        try:
            doc = json.loads(store.get(key))
            meta = doc["attributes"]["_h5pyvol"]
        except Exception as exc:
            report.problems.append(Problem(key, f"node document cannot be read ({_reason(exc)})"))
            continue
        for link in meta.get("links", []):
            if link.get("type") != "hard":
                continue
            target = _meta_key(link["node"])
            try:
                missing = store.get(target) is None
            except OSError as exc:  # there, but not a value (a directory, no permission)
                report.problems.append(Problem(target, f"node document cannot be read ({_reason(exc)})"))
                continue
            if missing:
                report.problems.append(Problem(key, f"link {link['name']!r} names node {link['node']!r}, "
                                                    f"which is missing"))


def _meta_key(node: str) -> str:
    return (node + "/" if node else "") + METADATA


def _owner(key: str) -> str:
    """The node a key belongs to: "<node>/zarr.json", or a chunk key
    "<node>/c/<i>/<j>" ("<node>/c" for a 0-d array)."""
    parts = key.split("/")
    if parts[-1] == METADATA:
        return "/".join(parts[:-1])
    end = len(parts)
    while end > 0 and parts[end - 1].isdigit():
        end -= 1
    if end > 0 and parts[end - 1] == "c":
        return "/".join(parts[:end - 1])
    return "/".join(parts[:-1])  # "<node>/<i>.<j>": v2 chunk keys (a rechunked layout)


def _unreferenced_keys(store, nodes: set) -> list:
    return [key for key in store.list("") if not key.startswith("%") and _owner(key) not in nodes]
