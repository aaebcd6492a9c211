"""The h5py entry points that would reach a version-1 HDF5 call, each
wrapped: objects H5PyVOL serves take the version-2 path, every other object
h5py's original.  See ``__init__`` for why."""
from __future__ import annotations

import functools

from . import CONNECTOR_NAME, hdf5

_applied = False


def _ours(obj) -> bool:
    """Whether HDF5 object id (an h5py ObjectID) is served by H5PyVOL."""
    try:
        return bool(obj) and hdf5.connector_name(obj.id) == CONNECTOR_NAME
    except (AttributeError, TypeError):
        return False


def _lapl(lapl) -> int:
    return hdf5.H5P_DEFAULT if lapl is None else lapl.id


def _bytes(name) -> bytes:
    return name if isinstance(name, bytes) else str(name).encode("utf-8")


def _first_is_ours(first, *args, **kwargs) -> bool:
    return _ours(first)


def _self_is_ours(self, *args, **kwargs) -> bool:
    return _ours(getattr(self, "id", None))


def _wrap(owner, attr: str, serves=_first_is_ours):
    """Replaces owner.attr by a function that calls the decorated
    replacement(original, *args) when serves(*args) says the call is about
    H5PyVOL objects (default: the first argument is such an id), and h5py's
    original otherwise."""
    def decorator(replacement):
        original = getattr(owner, attr)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            if serves(*args, **kwargs):
                return replacement(original, *args, **kwargs)
            return original(*args, **kwargs)

        wrapper.__h5pyvol_original__ = original
        setattr(owner, attr, wrapper)
        return replacement
    return decorator


class ObjInfo:
    """What h5py.h5o.get_info returns, from H5O_info2_t (no object address
    or header: tokens are not addresses outside native files)."""

    def __init__(self, info: hdf5.ObjectInfo):
        self.fileno = info.fileno
        self.type = info.type
        self.rc = info.rc
        self.num_attrs = info.num_attrs
        self.atime, self.mtime, self.ctime, self.btime = info.atime, info.mtime, info.ctime, info.btime
        self.token = bytes(info.token.data)
        self.addr = int.from_bytes(self.token[:8], "little")
        self.hdr = None

    def __repr__(self):
        return f"<ObjInfo type={self.type} rc={self.rc} num_attrs={self.num_attrs}>"


class LinkInfo:
    """What h5py's LinkProxy.get_info returns, from H5L_info2_t."""

    def __init__(self, info: hdf5.LinkInfo):
        self.type = info.type
        self.corder_valid = bool(info.corder_valid)
        self.corder = info.corder
        self.cset = info.cset
        self.u = info.u.val_size if info.type != hdf5.H5L_TYPE_HARD else bytes(info.u.token.data)


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from h5py import h5g, h5o
    from h5py._hl import group

    @_wrap(h5o, "get_info")
    def get_info(original, loc, name=None, index=-1, *, obj_name=b".", index_type=hdf5.H5_INDEX_NAME,
                 order=hdf5.H5_ITER_INC, lapl=None):
        if index != -1:
            raise NotImplementedError("h5o.get_info by index is not available for H5PyVOL objects")
        target = b"." if name is None else _bytes(name)
        return ObjInfo(hdf5.object_info(loc.id, target, lapl=_lapl(lapl)))

    @_wrap(h5o, "visit")
    def visit(original, loc, func, *, info=False, obj_name=b".", lapl=None, idx_type=hdf5.H5_INDEX_NAME,
              order=hdf5.H5_ITER_INC):
        def each(name, objinfo):
            if name == b".":  # h5py never shows the start itself
                return None
            return func(name, ObjInfo(objinfo)) if info else func(name)
        return hdf5.visit_objects(loc.id, each, name=_bytes(obj_name), lapl=_lapl(lapl))

    @_wrap(h5g, "_path_valid")
    def path_valid(original, grp, path, lapl=None):
        # h5py's own rule (h5g._path_valid) on version-2 calls: every link on
        # the way must lead to a group; the last one only has to exist
        text = path.decode("utf-8") if isinstance(path, bytes) else str(path)
        if not text:
            return False
        root = "/" if text.startswith("/") else ""
        parts = [p for p in text.split("/") if p and p != "."]
        access = _lapl(lapl)
        try:
            for i in range(len(parts)):
                name = (root + "/".join(parts[:i + 1])).encode("utf-8")
                if hdf5.H5Lexists(grp.id, name, access) <= 0:
                    return False
                if i < len(parts) - 1 and hdf5.object_info(grp.id, name, lapl=access).type != hdf5.H5O_TYPE_GROUP:
                    return False
        except (KeyError, RuntimeError, ValueError, TypeError, OSError):
            return False
        return True

    def names_in_order(self, order):
        index = (hdf5.H5_INDEX_CRT_ORDER if hdf5.creation_order_tracked(self.id.id)
                 else hdf5.H5_INDEX_NAME)
        return hdf5.link_names(self.id.id, index, order)

    @_wrap(group.Group, "__iter__", serves=_self_is_ours)
    def group_iter(original, self):
        for name in names_in_order(self, hdf5.H5_ITER_INC):
            yield self._d(name)

    @_wrap(group.Group, "__reversed__", serves=_self_is_ours)
    def group_reversed(original, self):
        for name in names_in_order(self, hdf5.H5_ITER_DEC):
            yield self._d(name)

    @_wrap(group.Group, "get", serves=_self_is_ours)
    def group_get(original, self, name, default=None, getclass=False, getlink=False, elink_mode=None,
                  elink_locking=None, elink_swmr=None):
        from h5py._hl import dataset, datatype
        if not (getclass or getlink):
            return original(self, name, default, getclass, getlink, elink_mode, elink_locking, elink_swmr)
        if elink_mode is None and elink_swmr is None and elink_locking is None:
            access = self._lapl
        else:
            access = group.make_lapl(self.file, elink_mode, elink_swmr, elink_locking)
        lapl = _lapl(access)
        if name not in self:
            return default
        target = self._e(name)
        if not getlink:
            kind = hdf5.object_info(self.id.id, target, lapl=lapl).type
            try:
                return {hdf5.H5O_TYPE_GROUP: group.Group, hdf5.H5O_TYPE_DATASET: dataset.Dataset,
                        hdf5.H5O_TYPE_NAMED_DATATYPE: datatype.Datatype}[kind]
            except KeyError as exc:
                raise TypeError("Unknown object type") from exc
        kind = hdf5.link_info(self.id.id, target, lapl).type
        if kind == hdf5.H5L_TYPE_SOFT:
            if getclass:
                return group.SoftLink
            return group.SoftLink(self._d(hdf5.link_value(self.id.id, target, lapl)))
        if kind == hdf5.H5L_TYPE_EXTERNAL:
            if getclass:
                return group.ExternalLink
            filename, path = hdf5.link_value(self.id.id, target, lapl)
            from h5py._hl.compat import filename_decode
            return group.ExternalLink(filename_decode(filename), self._d(path))
        if kind == hdf5.H5L_TYPE_HARD:
            return group.HardLink if getclass else group.HardLink()
        raise TypeError("Unknown link type")

    apply_references()

    def visit_links(self, func):
        return hdf5.visit_links(self.id.id, lambda name, info: func(name) or None, _lapl(self._lapl))

    @_wrap(group.Group, "visit_links", serves=_self_is_ours)
    def group_visit_links(original, self, func):
        return visit_links(self, lambda name: func(self._d(name)))

    @_wrap(group.Group, "visititems_links", serves=_self_is_ours)
    def group_visititems_links(original, self, func):
        def each(name):
            name = self._d(name)
            return func(name, self.get(name, getlink=True))
        return visit_links(self, each)



# --- h5py references ----------------------------------------------------------
# An h5py Reference holds an hobj_ref_t: 8 bytes that natively are the
# object's address.  For H5PyVOL objects they are the first 8 bytes of the
# object's token (the connectors' tokens are an object number and zeros), so
# a reference stored in a dataset stays valid in the file.  h5py builds
# Reference objects only in its type converters, so those make them here.

def _ref_types(region: bool):
    from h5py import h5t
    return (h5t.STD_REF_DSETREG, 12) if region else (h5t.STD_REF_OBJ, 8)


def reference_from_bytes(raw: bytes, region: bool = False):
    import ctypes
    import numpy as np
    from h5py import h5t
    kind, size = _ref_types(region)
    buf = np.zeros(2, dtype=np.uint64)  # room for 12 bytes in, one pointer out
    buf.view(np.uint8)[:size] = np.frombuffer(raw.ljust(size, b"\0")[:size], dtype=np.uint8)
    h5t.convert(kind, h5t.PYTHON_OBJECT, 1, buf, np.zeros(2, dtype=np.uint64))  # the region converter needs a background
    address = int(buf[0])
    ref = ctypes.cast(address, ctypes.py_object).value
    ctypes.pythonapi.Py_DecRef(ctypes.c_void_p(address))  # the converter's own reference
    return ref


def reference_bytes(ref, region: bool = False) -> bytes:
    import numpy as np
    from h5py import h5t
    kind, size = _ref_types(region)
    buf = np.zeros(2, dtype=np.uint64)
    buf[0] = id(ref)
    h5t.convert(h5t.PYTHON_OBJECT, kind, 1, buf, np.zeros(2, dtype=np.uint64))
    return buf.tobytes()[:size]


def connector_object(oid):
    """The connector's Python object behind an H5PyVOL handle: H5VLobject
    gives the bridge's pv_obj_t, whose first member is that object."""
    import ctypes
    handle = hdf5.H5VLobject(oid.id)
    if not handle:
        hdf5.raise_from_stack("H5VLobject")
    return ctypes.cast(ctypes.c_void_p.from_address(handle).value, ctypes.py_object).value


def apply_references() -> None:
    from h5py import h5i, h5r

    from h5py import h5s
    from .. import _dispatch

    @_wrap(h5r, "create")
    def create(original, loc, name, ref_type, space=None):
        token = bytes(hdf5.object_info(loc.id, _bytes(name), fields=hdf5.H5O_INFO_BASIC).token.data)
        if ref_type == h5r.OBJECT:
            return reference_from_bytes(token[:8])
        if space is None:
            raise ValueError("a region reference needs a dataspace")
        # hdset_reg_ref_t: the dataset's token, then the index of the
        # selection in the file's region table
        index = _dispatch.region_register(connector_object(loc), token, space.encode())
        return reference_from_bytes(token[:8] + index.to_bytes(4, "little"), region=True)

    def ours_reference(ref, id, *args, **kwargs) -> bool:
        return isinstance(ref, h5r.Reference) and _ours(id)

    def ours_region(ref, id, *args, **kwargs) -> bool:
        return isinstance(ref, h5r.RegionReference) and _ours(id)

    @_wrap(h5r, "get_region", serves=ours_region)
    def get_region(original, ref, id):
        raw = reference_bytes(ref, region=True)
        if raw == bytes(12):
            return None
        _, space = _dispatch.region_lookup(connector_object(id), int.from_bytes(raw[8:], "little"))
        return h5s.decode(space)

    @_wrap(h5r, "dereference", serves=ours_reference)
    def dereference(original, ref, id):
        raw = reference_bytes(ref, region=isinstance(ref, h5r.RegionReference))
        if raw == bytes(len(raw)):
            return None
        return h5i.wrap_identifier(hdf5.open_by_token(id.id, raw[:8].ljust(16, b"\0")))

    @_wrap(h5r, "get_obj_type", serves=ours_reference)
    def get_obj_type(original, ref, id):
        oid = h5r.dereference(ref, id)
        return None if oid is None else hdf5.object_info(oid.id).type
