"""The Python end of the C bridge: one function per VOL operation.

The C side (``src/c``) calls these functions by name with plain values and
connector objects; they resolve paths, count handles, adapt connectors
written in the original H5PyVOL style (``legacy.py``) and call the
connector's methods.  Connectors never see this module.
"""
from __future__ import annotations

import atexit
import functools
import itertools
import time
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import call_timeout, contract, errors, filters, legacy, registry
from .api import element_base
from .api import (DatasetCreation, ExternalLink, H5Attribute, H5Dataset, H5Datatype, H5File, H5Group, H5Object,
                  H5VOL, SoftLink, UserLink)
from .selection import Selection
from .types import decode_element, dtype_from_spec, encode_element, has_vlen, spec_from_dtype

H5F_ACC_RDWR = 0x0001
H5F_ACC_EXCL = 0x0004
H5F_ACC_SWMR_WRITE = 0x0020
H5F_ACC_SWMR_READ = 0x0040
#: the access flags H5Fget_intent reports (h5py's swmr_mode reads the SWMR ones)
_INTENT_FLAGS = H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE | H5F_ACC_SWMR_READ
H5F_ACC_DEFAULT = 0xffff

_connectors: dict[str, H5VOL] = {}
_filenos = itertools.count(1)


@dataclass
class _FileState:
    config: Optional[str]
    intent: int
    handles: int = 0  # open HDF5 handles to the file or anything in it
    fileno: int = 0
    # the file access list it was opened with through an external link (a
    # capsule the bridge made from the link access list), for H5Fget_access_plist
    fapl: object = None
    libver_low: int = 0  # H5Pset_libver_bounds' low bound of the opens (H5F_LIBVER_EARLIEST: 0)
    # links moved (old path, new path) or deleted (old path, None) while
    # open, in order: the paths handles were opened by follow them
    renamed: list = field(default_factory=list)


def native_filter_round_trip(dcpl, type_spec, shape, data):
    """Replaced by the bridge's C function when it loads this module (native.c)."""
    raise NotImplementedError("HDF5's filters can only be applied inside the H5PyVOL plugin")


def joined_python_host():
    """Called once when the plugin joins a running interpreter (an h5py
    script): installs the h5py compatibility layer (h5py_compat)."""
    errors.collect_before_reporting = True
    try:
        from . import h5py_compat
        h5py_compat.install()
    except Exception as exc:  # the connector still works; only h5py's version-1 paths stay refused
        warnings.warn(f"H5PyVOL: h5py compatibility layer not installed: {exc}", RuntimeWarning)


def describe_error(exc: BaseException, where: str):
    return errors.describe(exc, where)


# -- connectors ------------------------------------------------------------------
def connector(config: Optional[str]) -> H5VOL:
    key = config or ""
    vol = _connectors.get(key)
    if vol is None:
        options = registry.parse_info(config)
        bound = call_timeout.parse(options)
        cls = registry.load_class(*registry.connector_target(options))
        registry.check_options(cls, options)
        vol = cls(**options)
        if bound is not None:
            vol._h5pyvol_watch = call_timeout.CallWatch(bound)
            _time_all()
        _connectors[key] = vol
    return vol


# chunks of lossy-filtered datasets not filtered yet, by id(dataset) (filters.py)
_lossy: dict[int, "filters.LossyChunks"] = {}


def _filter_pending(f: Optional[H5File] = None, ds: Optional[H5Dataset] = None) -> None:
    """Chunks leave the emulated chunk cache: of one dataset, of every
    dataset of a file, or of all (HDF5 shutting down)."""
    for key, chunks in list(_lossy.items()):
        if (ds is None or chunks.ds is ds) and (f is None or _file_of(chunks.ds) is f):
            del _lossy[key]
            chunks.flush()


def terminate():
    """HDF5 or the Python host is shutting down."""
    try:
        _filter_pending()
    finally:  # a chunk that cannot be filtered must not keep the stores from flushing
        for vol in list(_connectors.values()):
            watch = getattr(vol, "_h5pyvol_watch", None)
            if watch is None or watch.wait_for_late_call():
                vol.terminate()


# In a Python host HDF5's own shutdown comes after the interpreter's.
atexit.register(terminate)


# -- handles ---------------------------------------------------------------------
def _file_of(obj: H5Object) -> H5File:
    f = getattr(obj, "file", None)
    if f is None:
        raise ValueError(f"{type(obj).__name__} object has no file; set obj.file")
    return f


def _state(f: H5File) -> _FileState:
    return f._h5pyvol_state


def _hand_out(obj: H5Object) -> H5Object:
    """Counts one more HDF5 handle to ``obj``."""
    obj._h5pyvol_handles = getattr(obj, "_h5pyvol_handles", 0) + 1
    _state(_file_of(obj)).handles += 1
    return obj


def object_close(obj: H5Object):
    """HDF5 closed a handle: the last one to an object closes it, the last one
    into a file closes the file (HDF5's default weak close).  The counts
    change only once the connector's close succeeded: when it raises (a
    flush to a server that is down), HDF5 keeps the handle and may close it
    again later, and that second close must find everything as before."""
    f = _file_of(obj)
    state = _state(f)
    handles = getattr(obj, "_h5pyvol_handles", 1)
    if handles == 1 and obj is not f:
        _filter_pending(ds=obj)
        obj.close()
    if state.handles == 1:
        _filter_pending(f)
        f.close()
    obj._h5pyvol_handles = handles - 1
    state.handles -= 1
    if state.handles == 0:
        f._h5pyvol_handles = 0
    if state.renamed and state.handles == getattr(f, "_h5pyvol_handles", 0):
        # only handles of the file itself are open, and "/" is never renamed:
        # the renames no handle needs would grow with every delete
        state.renamed.clear()


def _attach(obj: H5Object, parent: H5Object, name: Optional[str]) -> H5Object:
    """Fills in what a legacy or minimal connector left unset."""
    if getattr(obj, "file", None) is None:
        obj.file = _file_of(parent)
    if getattr(obj, "name", None) is None and name is not None:
        obj.name = name if name.startswith("/") else H5Group._child_path(parent, name)
    if not hasattr(obj, "token"):
        from .api import new_token
        obj.token = new_token()
    return obj


# -- paths and locations -----------------------------------------------------------
def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


MAX_LINK_DEPTH = 16  # HDF5's default H5Pset_nlinks


def _walk(start: H5Object, path: str, create: bool = False, depth: int = 0, elink=None) -> H5Object:
    """The object at path from start.  elink: (access flags, file access
    list) from the link access list, for files external links open."""
    node = _file_of(start) if path.startswith("/") else start
    for part in _parts(path):
        if not isinstance(node, H5Group):
            raise KeyError(f"{node.name!r} is not a group, cannot look up {part!r}")
        try:
            child = contract.link(node, part)
        except KeyError:
            if not create:
                raise KeyError(f"object {part!r} doesn't exist (in {path!r})") from None
            child = node.create_group(part)
            _attach(child, node, part)
        node = _follow(node, child, depth, elink)
        mounted = getattr(node, "mounted_file", None)
        if mounted is not None:  # H5Fmount: the child file's root stands in for the group
            node = mounted
    return node


def _follow(group: H5Group, target, depth: int = 0, elink=None) -> H5Object:
    """The object a link leads to, following soft and external links."""
    if isinstance(target, H5Object):
        return target
    if depth >= MAX_LINK_DEPTH:
        raise KeyError(f"too many soft or external links (more than {MAX_LINK_DEPTH})")
    if isinstance(target, SoftLink):
        return _walk(group, target.path, depth=depth + 1, elink=elink)
    if isinstance(target, ExternalLink):
        return _walk(_open_external(group, target.filename, elink), target.path, depth=depth + 1, elink=elink)
    if isinstance(target, UserLink):
        raise KeyError(f"user-defined link (type {target.type}) in {group.name!r} cannot be traversed by H5PyVOL")
    raise TypeError(f"group {group.name!r} holds {type(target).__name__}, not a link")


def _open_external(group: H5Object, filename: str, elink=None) -> H5File:
    """The file an external link names, opened as the link access list says
    (H5Pset_elink_acc_flags, H5Pset_elink_fapl) or like the linking file."""
    f = _file_of(group)
    state = _state(f)
    flags, fapl = elink if elink is not None else (H5F_ACC_DEFAULT, None)
    intent = state.intent if flags == H5F_ACC_DEFAULT else flags
    fapl = fapl if fapl is not None else state.fapl  # natively: the linking file's
    vol = f.vol
    other = vol.open_file(filename, "r+" if intent & H5F_ACC_RDWR else "r")
    if getattr(other, "_h5pyvol_state", None) is None or other._h5pyvol_state.handles == 0:
        _new_file(other, vol, filename, state.config, intent)
        other._h5pyvol_state.handles -= 1  # only what is opened through it holds it open
        other._h5pyvol_handles = 0
        other._h5pyvol_state.fapl = fapl
    return other


def _split(start: H5Object, path: str, create: bool = False) -> tuple[H5Group, str]:
    """(parent group, last name) of a path, creating intermediate groups if asked."""
    parts = _parts(path)
    if not parts:
        raise ValueError(f"path {path!r} names no link")
    prefix = ("/" if path.startswith("/") else "") + "/".join(parts[:-1])
    parent = _walk(start, prefix, create)
    if not isinstance(parent, H5Group):
        raise KeyError(f"{parent.name!r} is not a group")
    return parent, parts[-1]


def _ordered_names(group: H5Group, index: str, order: str, fallback: bool = False) -> list[str]:
    """Link names in an index.  Iterating by creation order needs it tracked;
    visits (fallback) use names instead, as HDF5 does."""
    names = contract.names(group)
    if index == "crt_order" and fallback and not getattr(group, "track_link_corder", False):
        index = "name"
    if index == "name":
        names.sort(key=lambda n: n.encode("utf-8", "surrogateescape"))
    else:
        if not getattr(group, "track_link_corder", False):
            raise ValueError(f"creation order is not tracked for links in group {group.name!r}")
        names.sort(key=group.creation_order)
    if order == "decreasing":
        names.reverse()
    return names


def _by_token(start: H5Object, token: bytes) -> H5Object:
    root = _file_of(start)
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if node.token[:16].ljust(16, b"\0") == token:
            return node
        if isinstance(node, H5Group) and id(node) not in seen:
            seen.add(id(node))
            todo.extend(t for t in (contract.link(node, n) for n in contract.names(node)) if isinstance(t, H5Object))
    raise KeyError(f"no object with token {token.hex()}")


def _locate(obj: H5Object, loc) -> H5Object:
    if isinstance(obj, H5Attribute):  # an attribute's location is its object's
        obj = obj.owner
    kind = loc[0]
    if kind == "self":
        return obj
    if kind == "name":
        return _walk(obj, loc[1], elink=loc[2] if len(loc) > 2 else None)
    if kind == "index":
        _, path, index, order, n = loc
        group = _walk(obj, path)
        names = _ordered_names(group, index, order)
        if n >= len(names):
            raise IndexError(f"index {n} out of range: {group.name!r} has {len(names)} links")
        return _follow(group, contract.link(group, names[n]))
    if kind == "token":
        return _by_token(obj, loc[1])
    raise ValueError(f"unknown location {loc!r}")


def _link_target(obj: H5Object, loc) -> tuple[H5Group, str]:
    """(group, link name) a link location names."""
    if loc[0] == "name":
        return _split(obj, loc[1])
    if loc[0] == "index":
        _, path, index, order, n = loc
        group = _walk(obj, path)
        names = _ordered_names(group, index, order)
        if n >= len(names):
            raise IndexError(f"index {n} out of range: {group.name!r} has {len(names)} links")
        return group, names[n]
    raise ValueError(f"location {loc!r} does not name a link")


def _kind(obj: H5Object) -> str:
    return "group" if obj.kind == "file" else obj.kind


def _check_writable(obj: H5Object):
    f = _file_of(obj)
    if not _state(f).intent & H5F_ACC_RDWR:
        raise PermissionError(f"no write intent on file {f.filename!r} (opened read-only)")


# -- files -------------------------------------------------------------------------
def _new_file(f: H5File, vol: H5VOL, name: str, config, intent: int, fcpl=None) -> H5File:
    if not isinstance(f, H5File):
        raise TypeError(f"{type(vol).__name__} returned {type(f).__name__}, not an h5pyvol.H5File")
    if getattr(f, "vol", None) is None:
        f.vol = vol
    if getattr(f, "filename", None) is None:
        f.filename = name
    f.file = f
    old = getattr(f, "_h5pyvol_state", None)
    if old is not None and old.handles > 0:  # opened again while open
        old.intent |= intent
        return _hand_out(f)
    f._h5pyvol_state = _FileState(config, intent, 0, next(_filenos))
    if fcpl is not None and getattr(f, "fcpl", None) is None:
        f.fcpl = fcpl
    return _hand_out(f)


H5P_CRT_ORDER_TRACKED = 0x0001


def _set_crt_order(obj: H5Object, crt_order) -> None:
    """Records what a new object's creation list says about tracking: the
    creation order of links and attributes, and times (H5Pset_obj_track_times,
    on by default: the object's times are then its creation time)."""
    links, attrs, *times = crt_order
    if isinstance(obj, H5Group):
        obj.track_link_corder = bool(links & H5P_CRT_ORDER_TRACKED)
    obj.track_attr_corder = bool(attrs & H5P_CRT_ORDER_TRACKED)
    obj.created = int(time.time()) if (times[0] if times else True) else 0


def file_create(name, flags, config, fcpl, fapl_id, crt_order=(0, 0), link_phase=None, libver_low=0):
    vol = connector(config)
    mode = "w-" if flags & H5F_ACC_EXCL else "w"
    if hasattr(vol, "H5VL_python_file_create"):
        f = legacy.file_create(vol, name, flags, fapl_id)
    else:
        f = contract.instance(vol.create_file(name, mode), H5File, vol, "create_file")
    _set_crt_order(f, crt_order)
    # natively a file made with a low bound of 1.8 or later has a superblock
    # that raises the bound of every later open: it is kept with the file
    f.libver_low = libver_low if libver_low >= H5F_LIBVER_V18 else 0
    f = _new_file(f, vol, name, config, H5F_ACC_RDWR | (flags & H5F_ACC_SWMR_WRITE), fcpl)
    _state(f).libver_low = libver_low
    _start_link_storage(f, link_phase, libver_low, getattr(f, "track_link_corder", False))
    return f


def file_open(name, flags, config, fapl_id, libver_low=0):
    vol = connector(config)
    if hasattr(vol, "H5VL_python_file_open"):
        f = legacy.file_open(vol, name, flags, fapl_id)
    else:
        f = contract.instance(vol.open_file(name, "r+" if flags & H5F_ACC_RDWR else "r"), H5File, vol, "open_file")
    f = _new_file(f, vol, name, config, flags & _INTENT_FLAGS)
    _state(f).libver_low = max(libver_low, _state(f).libver_low)  # _libver_low adds the file's own
    return f


def _libver_low(f: H5File) -> int:
    """The low version bound new objects of an open file are made for."""
    return max(_state(f).libver_low, getattr(f, "libver_low", 0) or 0)


def reference_file(obj, filename):
    """A file handle for rebuilding a reference read from ``obj``'s file."""
    f = _file_of(obj) if obj is not None else None
    if f is not None and str(f.filename) == filename:
        return _hand_out(f)
    if f is None:
        raise ValueError(f"no file to resolve a reference into {filename!r}")
    return _hand_out(_open_external(f, filename))


def file_close(f):
    object_close(f)


def file_config(f):
    return _state(_file_of(f)).config


def file_fapl(f):
    return _state(_file_of(f)).fapl


def file_keep_fapl(f, fapl):
    state = _state(_file_of(f))
    if state.fapl is None:
        state.fapl = fapl


def file_fcpl(f):
    return getattr(_file_of(f), "fcpl", None)


def file_name(obj):
    return str(_file_of(obj).filename)


def file_number(obj):
    return _state(_file_of(obj)).fileno


def file_size(obj):
    return int(_file_of(obj).size())


def file_intent(obj):
    return _state(_file_of(obj)).intent


def file_flush(obj):
    _filter_pending(_file_of(obj))
    _file_of(obj).flush()


def file_start_swmr_write(obj):
    """H5Fstart_swmr_write: everything so far is flushed, and from now on
    readers in other processes that refresh see each flush.  Unlike native
    SWMR, new objects may still be created."""
    f = _file_of(obj)
    _check_writable(f)
    file_flush(f)
    _state(f).intent |= H5F_ACC_SWMR_WRITE


def file_reopen(f):
    return _hand_out(_file_of(f))


def file_is_accessible(name, config):
    return bool(connector(config).file_exists(name))


def file_delete(name, config):
    connector(config).delete_file(name)


def same_file(a, b):
    return _file_of(a) is _file_of(b)


# -- objects -------------------------------------------------------------------------
def object_open(obj, loc):
    target = _locate(obj, loc)
    return _kind(target), _hand_out(target)


def object_file(obj):
    return _hand_out(_file_of(obj))


def opened_path(parent, parent_path, name, opened=None):
    """The path a handle opened as ``name`` from ``parent`` (whose handle
    has ``parent_path``, or None) is named by, as HDF5 names it: the path as
    given, soft links not resolved.  Returned as (path, how many renames of
    the file it has seen); None if unknown, or if an external link led to
    ``opened`` (natively named by its path in its own file)."""
    if isinstance(parent, H5Attribute) or (opened is not None and _file_of(opened) is not _file_of(parent)):
        return None
    if parent_path is not None:
        base = _current_path(parent, parent_path)
    else:
        base = parent.name if not isinstance(parent, H5File) else "/"
    if name.startswith("/"):
        base = ""
    if base is None:
        return None
    return "/" + "/".join(_parts(base + "/" + name)), len(_state(_file_of(parent)).renamed)


def _current_path(obj: H5Object, opened) -> Optional[str]:
    """A handle's path after the links moved or deleted since it was
    opened, as HDF5 renames open objects (H5G_name_replace): a move renames
    paths below the link, a delete leaves them without a name -- natively
    only for handles of the moved object's kind (all kinds for a soft link)."""
    path, seen = opened
    kind = _kind(obj)
    for old, new, of_kind in _state(_file_of(obj)).renamed[seen:]:
        if (of_kind is None or of_kind == kind) and (path == old or path.startswith(old + "/")):
            if new is None:
                return None
            path = new + path[len(old):]
    return path


def _renamed(group: H5Group, name: str, new_path: Optional[str], target) -> None:
    old = H5Group._child_path(group, name)
    kind = _kind(target) if isinstance(target, H5Object) else None
    _state(_file_of(group)).renamed.append((old, new_path, kind))


def object_name(obj, loc, opened=None):
    """H5Iget_name: the path the handle was opened by, kept up to date with
    moves; without one (or after its link was deleted) the object's own."""
    target = _locate(obj, loc)
    if opened is not None and loc[0] == "self" and not isinstance(target, H5File):
        path = _current_path(target, opened)
        if path is not None:
            return path
    return "/" if isinstance(target, H5File) else target.name


def object_type(obj, loc):
    return _kind(_locate(obj, loc))


def object_exists(obj, loc):
    try:
        _locate(obj, loc)
    except KeyError:
        return False
    return True


def object_token(obj, loc):
    return _locate(obj, loc).token


def _info(target: H5Object) -> dict:
    created = getattr(target, "created", 0)  # 0: times not tracked
    return {"token": target.token, "type": _kind(target), "rc": _refcount(target),
            "fileno": _state(_file_of(target)).fileno, "num_attrs": len(contract.names(target, "attribute_names")),
            "atime": created, "mtime": created, "ctime": created, "btime": created}


def _refcount(target: H5Object) -> int:
    """Hard links to the object, plus H5Oincr_refcount's extra references, plus
    (for a committed datatype) the datasets and attributes using it."""
    return (max(getattr(target, "hard_links", 1), 0) + getattr(target, "extra_refcount", 0)
            + getattr(target, "users", 0))


def _use_named_type(named) -> None:
    if named is not None:
        named.users = getattr(named, "users", 0) + 1


def object_info(obj, loc, fields):
    return _info(_locate(obj, loc))


def object_change_refcount(obj, loc, delta):
    _check_writable(obj)
    target = _locate(obj, loc)
    target.extra_refcount = getattr(target, "extra_refcount", 0) + delta


def object_visit(obj, loc, index, order, fields):
    """Every object reachable by hard links from the start, once, start first."""
    start = _locate(obj, loc)
    entries, seen = [(".", _info(start))], {id(start)}

    def visit(group: H5Group, prefix: str):
        for name in _ordered_names(group, index, order, fallback=True):
            child = contract.link(group, name)
            if not isinstance(child, H5Object) or id(child) in seen:
                continue
            seen.add(id(child))
            entries.append((prefix + name, _info(child)))
            if isinstance(child, H5Group):
                visit(child, prefix + name + "/")

    if isinstance(start, H5Group):
        visit(start, "")
    return (_kind(start), start), entries


# H5Ocopy flags (H5Opublic.h)
H5O_COPY_SHALLOW_HIERARCHY_FLAG = 0x0001
H5O_COPY_EXPAND_SOFT_LINK_FLAG = 0x0002
H5O_COPY_EXPAND_EXT_LINK_FLAG = 0x0004
H5O_COPY_EXPAND_REFERENCE_FLAG = 0x0008
H5O_COPY_WITHOUT_ATTR_FLAG = 0x0010
OBJECT_REFERENCE_SPEC = ("reference", "object")


def object_copy(src, loc1, src_name, dst, loc2, dst_name, flags, intermediate):
    _check_writable(dst)
    source = _walk(_locate(src, loc1), src_name)
    where, last = _split(_locate(dst, loc2), dst_name, intermediate)
    if last in contract.names(where):
        raise errors.NameExistsError(f"destination object {dst_name!r} already exists")
    copied: dict[int, H5Object] = {}
    _copy_into(source, where, last, flags, copied, depth=0)


def _copied_references(values: np.ndarray, source: H5Object, target: H5Object, flags: int, copied: dict):
    """Object references (8 bytes: the target's token) in copied data, with
    H5O_COPY_EXPAND_REFERENCE_FLAG: each referenced object is copied too and
    the references point to the copies.  As natively, a copy the rest of
    the operation does not reach by a link is linked in the destination's
    root as "~obj_pointed_by_<n>"."""
    out = values.copy()
    flat = out.reshape(-1)
    root = _file_of(target)
    for i, raw in enumerate(flat):
        raw = bytes(raw)
        if raw == bytes(len(raw)):
            continue
        referenced = _by_token(source, raw[:8].ljust(16, b"\0"))
        if id(referenced) not in copied:
            name = f"~obj_pointed_by_{int.from_bytes(raw[:8], 'little')}"
            while name in set(contract.names(root)):
                name += "_"
            _copy_object(referenced, root, name, flags, copied, 0)
        flat[i] = np.void(copied[id(referenced)].token[:8])
    return out


def _copied_values(values, spec, source: H5Object, target: H5Object, flags: int, copied: dict):
    """Elements as a copy holds them: object references expanded when asked;
    references copied into another file without expanding are NULL there,
    as natively."""
    if _expanding(spec, flags):
        return _copied_references(np.asarray(values), source, target, flags, copied)
    if _file_of(source) is not _file_of(target):
        if spec in (OBJECT_REFERENCE_SPEC, ("reference", "region")):
            return np.zeros_like(np.asarray(values))
        if spec == ("reference", "ref"):
            cleared = np.empty(np.shape(values), dtype=object)
            for index in np.ndindex(cleared.shape):
                cleared[index] = ("null",)
            return cleared
    return values


def _expanding(spec, flags: int) -> bool:
    return bool(flags & H5O_COPY_EXPAND_REFERENCE_FLAG) and spec == OBJECT_REFERENCE_SPEC


def _copy_attributes(source: H5Object, target: H5Object, flags: int, copied: Optional[dict] = None):
    if flags & H5O_COPY_WITHOUT_ATTR_FLAG:
        return
    for name in contract.names(source, "attribute_names"):
        attr = contract.attribute(source, name)
        spec = attr_type(attr)
        new = target.create_attribute(name, dtype=attr.dtype, shape=attr.shape, type_spec=spec,
                                      acpl=getattr(attr, "acpl", None))
        if attr.shape is not None:
            new.write(_copied_values(attr.read(), spec, source, target, flags, copied))


COPY_SLAB_BYTES = 64 << 20


def _has_storage(ds: H5Dataset) -> bool:
    """Has anything been written?  Natively H5Ocopy copies allocated storage
    only: a never-written dataset (all fill value) copies as one."""
    try:
        return ds.storage_size() > 0
    except NotImplementedError:
        return True


def _slabs(ds: H5Dataset):
    """The dataset's extent as selections of at most COPY_SLAB_BYTES along
    its first dimension (one for scalars): a copy never holds it whole."""
    shape = tuple(ds.shape)
    if not shape or 0 in shape:
        yield Selection.all(shape)
        return
    row = max(1, int(np.prod(shape[1:], dtype=np.int64)) * max(ds.dtype.itemsize, 1))
    step = max(1, COPY_SLAB_BYTES // row)
    rank = len(shape)
    for start in range(0, shape[0], step):
        size = (min(step, shape[0] - start),) + shape[1:]
        yield Selection("hyperslab", shape, start=(start,) + (0,) * (rank - 1), stride=(1,) * rank,
                        count=(1,) * rank, block=size)


def _copy_object(source: H5Object, group: H5Group, name: str, flags: int, copied: dict, depth: int) -> H5Object:
    """A copy of source linked as group/name."""
    if isinstance(source, H5Dataset):
        new = group.create_dataset(name, dtype=source.dtype, shape=source.shape, maxshape=source.maxshape,
                                   creation=source.creation, type_spec=dataset_type(source))
        if source.shape is not None and _has_storage(source):
            for part in _slabs(source):
                values = _copied_values(source.read(part), dataset_type(source), source, group, flags, copied)
                new.write(part, values)
    elif isinstance(source, H5Group):
        new = group.create_group(name)
        new.gcpl = getattr(source, "gcpl", None)
    elif isinstance(source, H5Datatype):
        new = group.commit_datatype(name, type_spec=source.type_spec, tcpl=getattr(source, "tcpl", None))
    else:
        raise NotImplementedError(f"copying a {source.kind} is not supported")
    _attach(new, group, name)
    copied[id(source)] = new
    _fill_copy(source, new, flags, copied, depth)
    return new


def _copy_into(source: H5Object, group: H5Group, name: str, flags: int, copied: dict, depth: int):
    """Copies `source` as `group/name`; objects reached twice by hard links
    (or first by a reference) are copied once."""
    if id(source) in copied:
        group.link(name, copied[id(source)])
        return
    _copy_object(source, group, name, flags, copied, depth)


def _fill_copy(source: H5Object, new: H5Object, flags: int, copied: dict, depth: int):
    for flag in ("track_link_corder", "track_attr_corder"):
        if hasattr(source, flag):
            setattr(new, flag, getattr(source, flag))
    _copy_attributes(source, new, flags, copied)
    if isinstance(source, H5Group) and not (flags & H5O_COPY_SHALLOW_HIERARCHY_FLAG and depth >= 1):
        for child_name in _ordered_names(source, "name", "increasing"):  # HDF5 copies in name order
            child = contract.link(source, child_name)
            if isinstance(child, SoftLink) and flags & H5O_COPY_EXPAND_SOFT_LINK_FLAG:
                try:
                    child = _follow(source, child)
                except KeyError:
                    pass  # a dangling soft link stays a soft link
            elif isinstance(child, ExternalLink) and flags & H5O_COPY_EXPAND_EXT_LINK_FLAG:
                child = _follow(source, child)
            if isinstance(child, H5Object):
                _copy_into(child, new, child_name, flags, copied, depth + 1)
            else:
                new.link(child_name, child)


def object_flush(obj):
    _filter_pending(ds=obj)
    obj.flush()


def object_refresh(obj):
    obj.refresh()


# -- groups ----------------------------------------------------------------------------
def group_create(parent, name, gcpl, intermediate, crt_order=(0, 0), link_phase=None):
    _check_writable(parent)
    if name is None:  # H5Gcreate_anon
        group = parent.vol.group_class(None, file=_file_of(parent), gcpl=gcpl)
    else:
        where, last = _split(parent, name, intermediate)
        group = contract.instance(where.create_group(last), H5Group, where, "create_group")
        _attach(group, where, last)
    if getattr(group, "gcpl", None) is None:
        group.gcpl = gcpl
    _set_crt_order(group, crt_order)
    _start_link_storage(group, link_phase, _libver_low(_file_of(parent)), getattr(group, "track_link_corder", False))
    return _hand_out(_attach(group, parent, None))


def group_open(parent, name):
    return _open_as(parent, name, H5Group, "group")


def group_mount(obj, name, child):
    group = _walk(obj, name)
    if not isinstance(group, H5Group) or getattr(group, "mounted_file", None) is not None:
        raise ValueError(f"cannot mount a file on {name!r}")
    group.mounted_file = _hand_out(_file_of(child))  # mounted files stay open


def group_unmount(obj, name):
    parent, last = _split(obj, name)
    group = _follow(parent, contract.link(parent, last))
    child = getattr(group, "mounted_file", None)
    if child is None:
        raise ValueError(f"no file is mounted on {name!r}")
    group.mounted_file = None
    object_close(child)


def group_gcpl(group):
    """(the encoded creation list or None, whether links track creation
    order): a root group has no list of its own, the file's says it."""
    return getattr(group, "gcpl", None), bool(getattr(group, "track_link_corder", False))


def group_info(obj, loc):
    group = _locate(obj, loc)
    if not isinstance(group, H5Group):
        raise TypeError(f"{group.name!r} is a {group.kind}, not a group")
    storage = getattr(group, "link_storage", None)
    return (len(contract.names(group)), getattr(group, "next_link_corder", 0),
            bool(getattr(group, "mounted_file", None)), storage[0] if storage else "compact")


H5F_LIBVER_V18 = 1


def _start_link_storage(group: H5Group, link_phase, libver_low: int, track_corder: bool) -> None:
    """How a new group keeps its links, decided as HDF5 decides it: the
    pre-1.8 symbol table unless the file's low version bound, creation-order
    tracking or a link filter asks for the newer format; then compact,
    or dense at once when the expected link count exceeds max_compact."""
    if link_phase is None:
        return
    max_compact, min_dense, expected, filtered = link_phase
    if libver_low >= H5F_LIBVER_V18 or track_corder or filtered:
        kind = "dense" if expected > max_compact else "compact"
    else:
        kind = "symbol_table"
    group.link_storage = [kind, int(max_compact), int(min_dense)]  # new groups are empty


# -- committed datatypes -----------------------------------------------------------------
def datatype_commit(parent, name, spec, tcpl, intermediate, crt_order=(0, 0)):
    _check_writable(parent)
    if name is None:  # H5Tcommit_anon
        datatype = parent.vol.datatype_class(None, file=_file_of(parent), type_spec=spec, tcpl=tcpl)
    else:
        where, last = _split(parent, name, intermediate)
        datatype = where.commit_datatype(last, type_spec=spec, tcpl=tcpl)
        _attach(datatype, where, last)
    _set_crt_order(datatype, crt_order)
    return _hand_out(_attach(datatype, parent, None))


def _open_as(parent, name, cls, what: str):
    """H5Gopen/H5Dopen/H5Topen: the object at ``name``, which must be a ``cls``."""
    obj = _walk(parent, name)
    if not isinstance(obj, cls):
        raise TypeError(f"{obj.name!r} is a {obj.kind}, not a {what}")
    return _hand_out(obj)


def datatype_open(parent, name):
    return _open_as(parent, name, H5Datatype, "committed datatype")


def datatype_spec(datatype):
    return datatype.type_spec


def datatype_tcpl(datatype):
    return getattr(datatype, "tcpl", None)


# -- datasets ----------------------------------------------------------------------------
def dataset_create(parent, name, spec, extent, creation, intermediate, crt_order=(0, 0), named=None):
    _check_writable(parent)
    dtype = dtype_from_spec(spec)
    shape, maxshape = extent if extent is not None else (None, None)
    kwargs = dict(dtype=dtype, shape=shape, maxshape=maxshape, creation=DatasetCreation(**creation), type_spec=spec)
    if name is None:  # H5Dcreate_anon
        ds = contract.instance(parent.vol.dataset_class(None, file=_file_of(parent), **kwargs), H5Dataset,
                               parent.vol, "dataset_class")
    else:
        where, last = _split(parent, name, intermediate)
        if hasattr(where, "H5VL_python_dataset_create"):
            ds = contract.instance(legacy.dataset_create(where, last, **kwargs), H5Dataset, where,
                                   "H5VL_python_dataset_create")
        else:
            ds = contract.instance(where.create_dataset(last, **kwargs), H5Dataset, where, "create_dataset")
        _attach(ds, where, last)
    if getattr(ds, "type_spec", None) is None:
        ds.type_spec = spec
    ds.named_type = named
    _use_named_type(named)
    _set_crt_order(ds, crt_order)
    if getattr(ds.creation, "alloc_time", "late") == "early":
        ds.allocate()
    return _hand_out(_attach(ds, parent, None))


def dataset_open(parent, name):
    return _open_as(parent, name, H5Dataset, "dataset")


def _named_type(obj):
    """The committed datatype a dataset or attribute was created with, as a new handle."""
    named = getattr(obj, "named_type", None)
    return None if named is None else _hand_out(named)


dataset_named_type = attr_named_type = _named_type


def dataset_type(ds):
    return ds.type_spec if getattr(ds, "type_spec", None) is not None else spec_from_dtype(ds.dtype)


def dataset_extent(ds):
    if ds.shape is None:
        return None
    return tuple(ds.shape), tuple(ds.maxshape if ds.maxshape is not None else ds.shape)


def dataset_dcpl(ds):
    return ds.creation.dcpl


def region_register(obj, token: bytes, space: bytes) -> int:
    """Keeps a region reference's target (object token, encoded dataspace
    selection) in its file's region table; the index goes into the
    reference's last 4 bytes (h5py_compat)."""
    f = _file_of(obj)
    table = list(getattr(f, "regions", None) or [])
    table.append([token.hex(), space.hex()])
    f.regions = table  # assigned, not appended: the store tracks changes by assignment
    return len(table) - 1


def old_references(obj, raw: bytes, region: bool) -> list:
    """Stored hobj_ref_t (8 bytes: the target's token) or hdset_reg_ref_t
    (12: token and region table index) elements as the values C packs into
    H5R_ref_t (HDF5's own conversion needs a native file)."""
    f = _file_of(obj.owner if isinstance(obj, H5Attribute) else obj)
    size = 12 if region else 8
    values = []
    for at in range(0, len(raw), size):
        element = raw[at:at + size]
        if not any(element):
            values.append(("null",))
            continue
        target = _by_token(f, element[:8].ljust(16, b"\0"))
        if region:
            _, space = region_lookup(f, int.from_bytes(element[8:12], "little"))
            values.append(("region", str(f.filename), target.name, space))
        else:
            values.append(("object", str(f.filename), target.name))
    return values


def region_lookup(obj, index: int) -> tuple[bytes, bytes]:
    table = getattr(_file_of(obj), "regions", None) or []
    if not 0 <= index < len(table):
        raise ValueError(f"invalid region reference (no region {index} in this file)")
    token, space = table[index]
    return bytes.fromhex(token), bytes.fromhex(space)


def dataset_is_virtual(ds):
    return ds.creation.layout == "virtual"


def dataset_virtual(ds):
    """What the bridge reads a virtual dataset with: its creation list (the
    mappings) and its file's name (sources are found relative to it)."""
    return ds.creation.dcpl, file_name(ds)


def dataset_fill_element(ds):
    """A variable-length fill value in the form C packs, or None."""
    spec = dataset_type(ds)
    if not has_vlen(spec) or ds.creation.fillvalue is None:
        return None
    return encode_element(spec, ds.fill_value())


def dataset_storage_size(ds):
    return contract.count(ds.storage_size(), ds, "storage_size")


def dataset_set_extent(ds, shape):
    _check_writable(ds)
    ds.resize(tuple(shape))
    if getattr(ds.creation, "alloc_time", "late") == "early":
        ds.allocate()


_LEGACY_METHODS: dict = {}


def _legacy(obj, method: str) -> bool:
    """Does ``obj``'s class implement the original H5PyVOL's ``method``?
    Looked up on the class once (see ``_brackets``)."""
    key = (type(obj), method)
    found = _LEGACY_METHODS.get(key)
    if found is None:
        found = _LEGACY_METHODS[key] = callable(getattr(type(obj), method, None))
    return found


def dataset_read(ds, selection, view):
    sel = Selection.from_c(selection)
    out = np.frombuffer(view, dtype=ds.dtype).reshape(sel.mshape + ds.dtype.shape)
    if _legacy(ds, "H5VL_python_dataset_read"):
        legacy.dataset_read(ds, sel, out)
    else:
        ds.read_into(sel, out)


def _decoded(spec, dtype, items, shape) -> np.ndarray:
    """Elements that arrived from C as an array of ``shape`` (numpy spreads an
    array type's own dims after it)."""
    data = np.empty(len(items), dtype=dtype)
    for i, raw in enumerate(items):
        data[i] = decode_element(spec, raw)
    return data.reshape(tuple(shape) + dtype.shape)


def _encoded(spec, values, count) -> list:
    """``count`` elements of ``values`` in the form C packs."""
    element_dims = tuple(spec[1]) if spec[0] == "array" else ()
    values = np.asarray(values)
    if values.size != count * int(np.prod(element_dims, dtype=np.int64)):
        raise ValueError(f"connector returned {values.size} values, expected {count} elements")
    return [encode_element(spec, v) for v in values.reshape((count,) + element_dims)]


def dataset_read_elements(ds, selection):
    sel = Selection.from_c(selection)
    if _legacy(ds, "H5VL_python_dataset_read"):
        out = np.empty(sel.mshape, dtype=ds.dtype)
        legacy.dataset_read(ds, sel, out)
    else:
        out = ds.read(sel)
    return _encoded(dataset_type(ds), out, sel.size)


def dataset_write_elements(ds, selection, items):
    _check_writable(ds)
    sel = Selection.from_c(selection)
    data = _decoded(dataset_type(ds), ds.dtype, items, sel.mshape)
    if _legacy(ds, "H5VL_python_dataset_write"):
        legacy.dataset_write(ds, sel, data)
    else:
        ds.write(sel, data)


def dataset_write(ds, selection, view):
    _check_writable(ds)
    sel = Selection.from_c(selection)
    data = np.frombuffer(view, dtype=ds.dtype).reshape(sel.mshape + ds.dtype.shape)
    if _legacy(ds, "H5VL_python_dataset_write"):
        legacy.dataset_write(ds, sel, data)
    elif filters.is_lossy(ds.creation) and ds.creation.chunks and ds.creation.dcpl and ds.shape:
        chunks = _lossy.get(id(ds))
        if chunks is None:
            chunks = _lossy[id(ds)] = filters.LossyChunks(ds, native_filter_round_trip)
        chunks.write(sel, data)
    else:
        ds.write(sel, data)


# -- links -------------------------------------------------------------------------------
def _link_value(target) -> bytes:
    """H5Lget_val's bytes: a soft link's path, or an external link packed as
    H5Lunpack_elink_val expects (version/flags byte, file, path)."""
    if isinstance(target, SoftLink):
        return target.path.encode() + b"\0"
    if isinstance(target, ExternalLink):
        return b"\0" + target.filename.encode() + b"\0" + target.path.encode() + b"\0"
    if isinstance(target, UserLink):
        return target.value
    return b""


H5L_TYPE_HARD, H5L_TYPE_SOFT, H5L_TYPE_EXTERNAL = 0, 1, 64


def _describe_link(group: H5Group, name: str, path: Optional[str] = None):
    """(name or path, H5L type, token, creation order, value size) for the C side."""
    target = contract.link(group, name)
    corder = group.creation_order(name) if getattr(group, "track_link_corder", False) else -1
    if isinstance(target, SoftLink):
        return path or name, H5L_TYPE_SOFT, None, corder, len(_link_value(target))
    if isinstance(target, ExternalLink):
        return path or name, H5L_TYPE_EXTERNAL, None, corder, len(_link_value(target))
    if isinstance(target, UserLink):
        return path or name, target.type, None, corder, len(target.value)
    return path or name, H5L_TYPE_HARD, target.token, corder, 0


def _new_link(obj, loc, intermediate, target):
    _check_writable(obj)
    if loc[0] != "name":
        raise ValueError(f"a new link needs a name, got {loc!r}")
    group, name = _split(obj, loc[1], intermediate)
    group.link(name, target)
    return group, name


def link_create_hard(obj, loc, target_obj, target_loc, intermediate):
    target = _locate(target_obj, target_loc)
    if _file_of(target) is not _file_of(obj):
        raise ValueError("hard links cannot cross files (use an external link)")
    group, name = _new_link(obj, loc, intermediate, target)
    if getattr(target, "name", None) is None:  # naming an anonymous object
        target.name = H5Group._child_path(group, name)


def link_create_soft(obj, loc, path, intermediate):
    _new_link(obj, loc, intermediate, SoftLink(path))


def link_create_external(obj, loc, filename, path, intermediate):
    _new_link(obj, loc, intermediate, ExternalLink(filename, path))


def link_create_ud(obj, loc, link_type, value, intermediate):
    _new_link(obj, loc, intermediate, UserLink(link_type, bytes(value)))


def _link_to_copy(src, loc1, dst):
    """(group, name, target) of the link H5Lcopy/H5Lmove take from ``src``."""
    _check_writable(dst)
    group, name = _link_target(src, loc1)
    target = contract.link(group, name)
    if isinstance(target, H5Object) and _file_of(target) is not _file_of(dst):
        raise ValueError("hard links cannot cross files")
    return group, name, target


def link_copy(src, loc1, dst, loc2, intermediate):
    _, _, target = _link_to_copy(src, loc1, dst)
    _new_link(dst, loc2, intermediate, target)


def link_move(src, loc1, dst, loc2, intermediate):
    group, name, target = _link_to_copy(src, loc1, dst)
    new_group, new_name = _new_link(dst, loc2, intermediate, target)
    group.unlink(name)
    new_path = H5Group._child_path(new_group, new_name) if _file_of(new_group) is _file_of(group) else None
    _renamed(group, name, new_path, target)
    if isinstance(target, H5Object) and target.name == H5Group._child_path(group, name):
        _rename_tree(target, target.name, H5Group._child_path(new_group, new_name))


def _rename_tree(obj: H5Object, old: str, new: Optional[str]):
    """Open handles see the object under its new path, as natively."""
    seen, todo = set(), [obj]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.name == old or (node.name or "").startswith(old + "/"):
            node.name = None if new is None else new + node.name[len(old):]
        if isinstance(node, H5Group):
            todo.extend(t for t in (contract.link(node, n) for n in contract.names(node)) if isinstance(t, H5Object))


def link_exists(obj, loc):
    try:
        group, name = _link_target(obj, loc)
        contract.link(group, name)
    except KeyError:
        return False
    return True


def link_delete(obj, loc):
    _check_writable(obj)
    group, name = _link_target(obj, loc)
    target = contract.link(group, name)  # KeyError for a missing link
    group.unlink(name)
    _renamed(group, name, None, target)
    path = H5Group._child_path(group, name)
    if isinstance(target, H5Object) and target.name == path:
        _rename_tree(target, path, None)  # open handles of it have no name any more


def link_info(obj, loc):
    group, name = _link_target(obj, loc)
    names = contract.names(group)
    if name not in names:
        raise KeyError(f"link {name!r} doesn't exist in {group.name!r}")
    return _describe_link(group, name)


def link_name(obj, loc):
    return _link_target(obj, loc)[1]


def link_value(obj, loc):
    group, name = _link_target(obj, loc)
    target = contract.link(group, name)
    if isinstance(target, H5Object):
        raise TypeError(f"{name!r} is a hard link, it has no value")
    return _link_value(target)


def link_iterate(obj, loc, recursive, index, order):
    group = _locate(obj, loc)
    if not isinstance(group, H5Group):
        raise TypeError(f"{group.name!r} is not a group")
    links, seen = [], {id(group)}

    def visit(g: H5Group, prefix: str):
        for name in _ordered_names(g, index, order, fallback=recursive):
            links.append(_describe_link(g, name, prefix + name))
            child = contract.link(g, name)
            if recursive and isinstance(child, H5Group) and id(child) not in seen:
                seen.add(id(child))
                visit(child, prefix + name + "/")

    visit(group, "")
    return group, links


# -- attributes ----------------------------------------------------------------------------
def _attr_names(obj: H5Object, index: str, order: str) -> list[str]:
    names = contract.names(obj, "attribute_names")
    if index == "name":
        names.sort(key=lambda n: n.encode("utf-8", "surrogateescape"))
    else:  # attributes always carry their creation index, tracked or not (as natively)
        names.sort(key=lambda n: getattr(obj.get_attribute(n), "corder", 0))
    if order == "decreasing":
        names.reverse()
    return names


def _attr_at(obj, loc, name) -> H5Attribute:
    """The attribute a location names: the handle itself, (object, name), or
    (object, n-th in an index)."""
    if isinstance(obj, H5Attribute) and loc[0] == "self":
        return obj
    if loc[0] == "index":
        _, path, index, order, n = loc
        target = _walk(obj, path)
        names = _attr_names(target, index, order)
        if n >= len(names):
            raise IndexError(f"attribute index {n} out of range: {target.name!r} has {len(names)}")
        return contract.attribute(target, names[n])
    return contract.attribute(_locate(obj, loc), name)


def _attr_owner(obj, loc) -> H5Object:
    if isinstance(obj, H5Attribute):
        return obj.owner
    return _locate(obj, loc)


def attr_create(obj, loc, name, spec, extent, acpl, named=None):
    _check_writable(obj)
    target = _locate(obj, loc)
    shape = extent[0] if extent is not None else None
    attr = contract.instance(target.create_attribute(name, dtype=dtype_from_spec(spec), shape=shape,
                                                     type_spec=spec, acpl=acpl), H5Attribute, target,
                             "create_attribute")
    if getattr(attr, "owner", None) is None:
        attr.owner = target
    attr.named_type = named
    _use_named_type(named)
    return _hand_out(attr)


def attr_open(obj, loc, name):
    return _hand_out(_attr_at(obj, loc, name))


def attr_type(attr):
    return attr.type_spec if getattr(attr, "type_spec", None) is not None else spec_from_dtype(attr.dtype)


def attr_extent(attr):
    return None if attr.shape is None else (tuple(attr.shape), tuple(attr.shape))


def attr_acpl(attr):
    return getattr(attr, "acpl", None)


def attr_read(attr, selection, view):
    out = np.frombuffer(view, dtype=attr.dtype).reshape((attr.shape or ()) + attr.dtype.shape)
    values = contract.values(attr.read(), attr, "read", attr.shape or (), attr.dtype)
    out[...] = np.asarray(values, dtype=element_base(attr.dtype)).reshape(out.shape)


def attr_write(attr, selection, view):
    _check_writable(attr)
    attr.write(np.frombuffer(view, dtype=attr.dtype).reshape((attr.shape or ()) + attr.dtype.shape))


def attr_read_elements(attr, selection):
    return _encoded(attr_type(attr), attr.read(), int(np.prod(attr.shape or (), dtype=np.int64)))


def attr_write_elements(attr, selection, items):
    _check_writable(attr)
    attr.write(_decoded(attr_type(attr), attr.dtype, items, attr.shape or ()))


def attr_info(obj, loc, name):
    attr = _attr_at(obj, loc, name)
    spec = attr_type(attr)
    utf8 = spec[0] == "string" and spec[2] == "utf-8"
    return getattr(attr, "corder", 0), utf8, contract.count(attr.storage_size(), attr, "storage_size")


def attr_name(obj, loc):
    return _attr_at(obj, loc, None).name


def attr_storage_size(attr):
    return contract.count(attr.storage_size(), attr, "storage_size")


def attr_delete(obj, loc, name):
    _check_writable(obj)
    _locate(obj, loc).delete_attribute(name)


def attr_delete_by_idx(obj, loc, index, order, n):
    _check_writable(obj)
    target = _locate(obj, loc)
    names = _attr_names(target, index, order)
    if n >= len(names):
        raise IndexError(f"attribute index {n} out of range: {target.name!r} has {len(names)}")
    target.delete_attribute(names[n])


def attr_exists(obj, loc, name):
    try:
        _locate(obj, loc).get_attribute(name)
    except KeyError:
        return False
    return True


def attr_rename(obj, loc, old, new):
    _check_writable(obj)
    _locate(obj, loc).rename_attribute(old, new)


def attr_iterate(obj, loc, index, order):
    target = _attr_owner(obj, loc)
    entries = []
    for name in _attr_names(target, index, order):
        attr = contract.attribute(target, name)
        corder, utf8, size = attr_info(attr, ("self",), None)
        entries.append((name, corder, utf8, size))
    return (_kind(target), target), entries


# -- operations a connector may bracket (the store's lock=rw mode) --------------------------
_GUARDED = {
    "read": ("object_open", "object_info", "object_visit", "group_open", "group_info", "datatype_open",
             "dataset_open", "dataset_extent", "dataset_read", "dataset_read_elements", "link_exists",
             "link_info", "link_iterate", "attr_open", "attr_exists", "attr_iterate", "attr_read",
             "attr_read_elements"),
    "write": ("file_flush", "object_flush", "object_change_refcount", "group_create", "datatype_commit",
              "dataset_create", "dataset_set_extent", "dataset_write", "dataset_write_elements",
              "link_create_hard", "link_create_soft", "link_create_external", "link_create_ud", "link_copy",
              "link_move", "link_delete", "attr_create", "attr_write", "attr_write_elements", "attr_delete",
              "attr_delete_by_idx", "attr_rename"),
}


_BRACKETING_FILE_CLASSES: dict = {}


def _brackets(file) -> bool:
    """Does this file's class define ``operation``?  Asked once per class: a
    miss on an ``H5Object`` walks its ``__getattr__`` and builds an
    AttributeError, which was a sixth of a one-element read's cost."""
    cls = type(file)
    found = _BRACKETING_FILE_CLASSES.get(cls)
    if found is None:
        found = _BRACKETING_FILE_CLASSES[cls] = callable(getattr(cls, "operation", None))
    return found


def _guarded(kind: str, function):
    """``function`` run inside its file's ``operation(kind)`` where the file's
    class has one (StoreFile: the lock=rw mode)."""
    @functools.wraps(function)
    def call(obj, *args, **kwargs):
        file = getattr(obj, "file", None)
        if file is None or not _brackets(file):
            return function(obj, *args, **kwargs)
        with file.operation(kind):
            return function(obj, *args, **kwargs)
    return call


def _guard_all() -> None:
    for kind, names in _GUARDED.items():
        for name in names:
            globals()[name] = _guarded(kind, globals()[name])


_guard_all()


# -- connectors with a call_timeout (call_timeout.py) ---------------------------------------
# not connector calls, or the calls that set connectors up and shut them down
_UNTIMED = {"connector", "describe_error", "joined_python_host", "native_filter_round_trip", "terminate"}
# where the connector info string is, for calls made before there is a file
_CONFIG_ARG = {"file_create": 2, "file_open": 2, "file_is_accessible": 1, "file_delete": 1}
_timed_already = False


def _watch_of(name: str, args: tuple):
    if name in _CONFIG_ARG:
        return getattr(connector(args[_CONFIG_ARG[name]]), "_h5pyvol_watch", None)
    for arg in args:
        if isinstance(arg, H5Object):
            vol = getattr(getattr(arg, "file", None), "vol", None)
            return getattr(vol, "_h5pyvol_watch", None)
    return None


def _timed(name: str, function):
    @functools.wraps(function)
    def call(*args, **kwargs):
        watch = None if call_timeout.inside() else _watch_of(name, args)
        if watch is None:
            return function(*args, **kwargs)
        return watch.run(name, function, args, kwargs)
    return call


def _time_all() -> None:
    """Puts every operation under its connector's bound; done when the first
    connector with a call_timeout is made, so others never pay for it."""
    global _timed_already
    if _timed_already:
        return
    _timed_already = True
    for name, value in list(globals().items()):
        if (callable(value) and not name.startswith("_") and name not in _UNTIMED
                and getattr(value, "__module__", None) == __name__ and not isinstance(value, type)):
            globals()[name] = _timed(name, value)
