"""References, re-made in the destination of a copy.

A reference names an object of its own file; copied as bytes it would name
whatever has that token in the other file (or nothing).  Every reference is
therefore re-created in the destination by path: the copy keeps every path,
so the object a source path names has a copy at the same path.

Three kinds exist: HDF5 1.12's H5R_ref_t (file type H5T_STD_REF; h5py cannot
read these, so they go through ctypes), and the older object and region
references h5py reads as ``h5py.Reference`` / ``h5py.RegionReference``.
"""
from __future__ import annotations

import ctypes

import h5py
import numpy as np

from ..errors import H5PyVOLError
from ..h5py_compat import hdf5

hid_t = ctypes.c_int64
H5R_REF_BUF_SIZE = 64
H5R_BADTYPE, H5R_OBJECT1, H5R_DATASET_REGION1, H5R_OBJECT2, H5R_DATASET_REGION2, H5R_ATTR = -1, 0, 1, 2, 3, 4


class RefT(ctypes.Structure):
    """H5R_ref_t: 64 opaque bytes."""
    _fields_ = [("data", ctypes.c_uint8 * H5R_REF_BUF_SIZE)]


_lib = hdf5._lib


def _bind(name, restype, *argtypes):
    func = getattr(_lib, name)
    func.restype, func.argtypes = restype, list(argtypes)
    return func


_RefP = ctypes.POINTER(RefT)
H5Rget_type = _bind("H5Rget_type", ctypes.c_int, _RefP)
H5Rget_obj_name = _bind("H5Rget_obj_name", ctypes.c_ssize_t, _RefP, hid_t, ctypes.c_char_p, ctypes.c_size_t)
H5Rget_attr_name = _bind("H5Rget_attr_name", ctypes.c_ssize_t, _RefP, ctypes.c_char_p, ctypes.c_size_t)
H5Rget_file_name = _bind("H5Rget_file_name", ctypes.c_ssize_t, _RefP, ctypes.c_char_p, ctypes.c_size_t)
H5Ropen_region = _bind("H5Ropen_region", hid_t, _RefP, hid_t, hid_t)
H5Rcreate_object = _bind("H5Rcreate_object", ctypes.c_int, hid_t, ctypes.c_char_p, hid_t, _RefP)
H5Rcreate_region = _bind("H5Rcreate_region", ctypes.c_int, hid_t, ctypes.c_char_p, hid_t, hid_t, _RefP)
H5Rcreate_attr = _bind("H5Rcreate_attr", ctypes.c_int, hid_t, ctypes.c_char_p, ctypes.c_char_p, hid_t, _RefP)
H5Rcopy = _bind("H5Rcopy", ctypes.c_int, _RefP, _RefP)
H5Rdestroy = _bind("H5Rdestroy", ctypes.c_int, _RefP)
H5Sclose = _bind("H5Sclose", ctypes.c_int, hid_t)
H5Dread = _bind("H5Dread", ctypes.c_int, hid_t, hid_t, hid_t, hid_t, hid_t, ctypes.c_void_p)
H5Dwrite = _bind("H5Dwrite", ctypes.c_int, hid_t, hid_t, hid_t, hid_t, hid_t, ctypes.c_void_p)
H5Aread = _bind("H5Aread", ctypes.c_int, hid_t, hid_t, ctypes.c_void_p)
H5Awrite = _bind("H5Awrite", ctypes.c_int, hid_t, hid_t, ctypes.c_void_p)
H5T_STD_REF = hid_t.in_dll(_lib, "H5T_STD_REF_g")


class UnsupportedReference(H5PyVOLError, NotImplementedError):
    pass


def kind_of_type(tid: h5py.h5t.TypeID) -> str | None:
    """"new", "object", "region" for a reference type, None for a type with
    no references; raises for references nested in other types."""
    if tid.get_class() == h5py.h5t.REFERENCE:
        if tid.equal(h5py.h5t.STD_REF_OBJ):
            return "object"
        if tid.equal(h5py.h5t.STD_REF_DSETREG):
            return "region"
        return "new"
    if tid.detect_class(h5py.h5t.REFERENCE):
        if _has_new_style(tid):
            raise UnsupportedReference("HDF5 1.12 references (H5T_STD_REF) inside compound, array or "
                                       "variable-length types are not copied")
        return "nested"
    return None


def _has_new_style(tid) -> bool:
    cls = tid.get_class()
    if cls == h5py.h5t.REFERENCE:
        return not (tid.equal(h5py.h5t.STD_REF_OBJ) or tid.equal(h5py.h5t.STD_REF_DSETREG))
    if cls == h5py.h5t.COMPOUND:
        return any(_has_new_style(tid.get_member_type(i)) for i in range(tid.get_nmembers()))
    if cls in (h5py.h5t.ARRAY, h5py.h5t.VLEN):
        return _has_new_style(tid.get_super())
    return False


def _text(getter, ref) -> str:
    size = getter(ref, None, 0)
    if size < 0:
        hdf5.raise_from_stack("reading a reference")
    buf = ctypes.create_string_buffer(size + 1)
    getter(ref, buf, size + 1)
    return buf.value.decode()


def _remade(ref: RefT, src_file: h5py.File, dst_file: h5py.File, out: RefT) -> None:
    kind = H5Rget_type(ctypes.byref(ref))
    if kind == H5R_BADTYPE:
        return  # a null reference stays null (zeros)
    if _text(H5Rget_file_name, ctypes.byref(ref)) != src_file.filename:
        # names an object of a third file, which the copy leaves where it is
        if H5Rcopy(ctypes.byref(ref), ctypes.byref(out)) < 0:
            hdf5.raise_from_stack("H5Rcopy")
        return
    path = _text(lambda r, b, s: H5Rget_obj_name(r, 0, b, s), ctypes.byref(ref)).encode()
    dst = dst_file.id.id
    if kind == H5R_OBJECT2:
        status = H5Rcreate_object(dst, path, 0, ctypes.byref(out))
    elif kind == H5R_DATASET_REGION2:
        space = H5Ropen_region(ctypes.byref(ref), 0, 0)
        if space < 0:
            hdf5.raise_from_stack("H5Ropen_region")
        try:
            status = H5Rcreate_region(dst, path, space, 0, ctypes.byref(out))
        finally:
            H5Sclose(space)
    elif kind == H5R_ATTR:
        attr = _text(H5Rget_attr_name, ctypes.byref(ref)).encode()
        status = H5Rcreate_attr(dst, path, attr, 0, ctypes.byref(out))
    else:
        raise UnsupportedReference(f"reference of type {kind} is not copied")
    if status < 0:
        hdf5.raise_from_stack(f"re-creating a reference to {path.decode()}")


def copy_new_style(count: int, read, write, src_file: h5py.File, dst_file: h5py.File) -> None:
    """``read(mtype, buffer)`` fills ``count`` H5R_ref_t; the re-made ones go
    to ``write(mtype, buffer)``."""
    source = (RefT * count)()
    target = (RefT * count)()
    if read(H5T_STD_REF.value, source) < 0:
        hdf5.raise_from_stack("reading references")
    try:
        for i in range(count):
            _remade(source[i], src_file, dst_file, target[i])
        if write(H5T_STD_REF.value, target) < 0:
            hdf5.raise_from_stack("writing references")
    finally:
        for refs in (source, target):
            for i in range(count):
                if H5Rget_type(ctypes.byref(refs[i])) != H5R_BADTYPE:
                    H5Rdestroy(ctypes.byref(refs[i]))


def remade(values: np.ndarray, src_file: h5py.File, dst_file: h5py.File) -> np.ndarray:
    """``values`` (as h5py reads them) with every h5py reference in them,
    also inside compound fields, re-made in ``dst_file``."""
    dtype = values.dtype
    if dtype.names:
        out = values.copy()
        for name in dtype.names:
            field = dtype.fields[name][0]
            base = field.base if field.subdtype else field
            if base.names or h5py.check_dtype(ref=base) is not None:
                out[name] = remade(values[name], src_file, dst_file)
        return out
    kind = h5py.check_dtype(ref=dtype)
    if kind is None:
        if dtype == object and values.size and isinstance(values.reshape(-1)[0], np.ndarray):
            raise UnsupportedReference("references inside variable-length sequences are not copied")
        return values
    return remade_old_style(values, "region" if kind is h5py.RegionReference else "object", src_file, dst_file)


def remade_old_style(values: np.ndarray, kind: str, src_file: h5py.File, dst_file: h5py.File) -> np.ndarray:
    """An object array of h5py references, each re-made in ``dst_file``."""
    out = np.empty(values.shape, dtype=values.dtype)
    flat_in, flat_out = values.reshape(-1), out.reshape(-1)
    for i, ref in enumerate(flat_in):
        if not ref:
            flat_out[i] = ref
            continue
        target = src_file[ref]
        if kind == "object":
            flat_out[i] = dst_file[target.name].ref
        else:
            space = h5py.h5r.get_region(ref, target.id)
            flat_out[i] = h5py.h5r.create(dst_file.id, target.name.encode(), h5py.h5r.DATASET_REGION, space)
    return out
