"""HDF5's version-2 calls that h5py (compiled with H5_USE_110_API) cannot
make, through ctypes on the libhdf5 this process already has loaded.

Only the handful the compatibility layer needs: link and object info,
iteration and visiting, connector names.  Failures raise the exception h5py
would raise for the same HDF5 error (see ``raise_from_stack``).
"""
from __future__ import annotations

import ctypes
import os
import re
from typing import Callable, Optional

hid_t = ctypes.c_int64
herr_t = ctypes.c_int
hsize_t = ctypes.c_uint64

H5_INDEX_NAME = 0
H5_INDEX_CRT_ORDER = 1
H5_ITER_INC = 0
H5_ITER_DEC = 1
H5P_DEFAULT = 0
H5E_DEFAULT = 0
H5E_WALK_UPWARD = 0
H5E_WALK_DOWNWARD = 1
H5O_INFO_BASIC = 0x0001
H5O_INFO_NUM_ATTRS = 0x0010
H5P_CRT_ORDER_TRACKED = 0x0001
H5O_TYPE_GROUP, H5O_TYPE_DATASET, H5O_TYPE_NAMED_DATATYPE = 0, 1, 2
H5L_TYPE_HARD, H5L_TYPE_SOFT, H5L_TYPE_EXTERNAL = 0, 1, 64


class Token(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint8 * 16)]


class LinkValue(ctypes.Union):
    _fields_ = [("token", Token), ("val_size", ctypes.c_size_t)]


class LinkInfo(ctypes.Structure):
    """H5L_info2_t"""
    _fields_ = [("type", ctypes.c_int), ("corder_valid", ctypes.c_bool), ("corder", ctypes.c_int64),
                ("cset", ctypes.c_int), ("u", LinkValue)]


class ObjectInfo(ctypes.Structure):
    """H5O_info2_t"""
    _fields_ = [("fileno", ctypes.c_ulong), ("token", Token), ("type", ctypes.c_int), ("rc", ctypes.c_uint),
                ("atime", ctypes.c_int64), ("mtime", ctypes.c_int64), ("ctime", ctypes.c_int64),
                ("btime", ctypes.c_int64), ("num_attrs", hsize_t)]


class ErrorEntry(ctypes.Structure):
    """H5E_error2_t"""
    _fields_ = [("cls_id", hid_t), ("maj_num", hid_t), ("min_num", hid_t), ("line", ctypes.c_uint),
                ("func_name", ctypes.c_char_p), ("file_name", ctypes.c_char_p), ("desc", ctypes.c_char_p)]


LinkCallback = ctypes.CFUNCTYPE(herr_t, hid_t, ctypes.c_char_p, ctypes.POINTER(LinkInfo), ctypes.c_void_p)
ObjectCallback = ctypes.CFUNCTYPE(herr_t, hid_t, ctypes.c_char_p, ctypes.POINTER(ObjectInfo), ctypes.c_void_p)
ErrorCallback = ctypes.CFUNCTYPE(herr_t, ctypes.c_uint, ctypes.POINTER(ErrorEntry), ctypes.c_void_p)


_LIBHDF5 = re.compile(r"libhdf5(-[0-9a-f]+)?\.so")


def _loaded_libhdf5() -> str:
    """The libhdf5 h5py and our plugin already share: the one mapped into
    this process (a second copy would have its own IDs)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            # libhdf5.so.310 of a source build, libhdf5-9e18f0c6.so.320.0.0 of
            # an h5py wheel (auditwheel mangles the name), never libhdf5_hl
            if _LIBHDF5.match(os.path.basename(path)):
                return path
    from .._build_config import HDF5_PREFIX
    return os.path.join(HDF5_PREFIX, "lib", "libhdf5.so")


_lib = ctypes.CDLL(_loaded_libhdf5())


def _bind(name, restype, *argtypes):
    func = getattr(_lib, name)
    func.restype = restype
    func.argtypes = argtypes
    return func


H5VLget_connector_name = _bind("H5VLget_connector_name", ctypes.c_ssize_t, hid_t, ctypes.c_char_p, ctypes.c_size_t)
H5Gget_create_plist = _bind("H5Gget_create_plist", hid_t, hid_t)
H5Pget_link_creation_order = _bind("H5Pget_link_creation_order", herr_t, hid_t, ctypes.POINTER(ctypes.c_uint))
H5Oopen = _bind("H5Oopen", hid_t, hid_t, ctypes.c_char_p, hid_t)
H5Oclose = _bind("H5Oclose", herr_t, hid_t)
H5Oopen_by_token = _bind("H5Oopen_by_token", hid_t, hid_t, Token)
H5VLobject = _bind("H5VLobject", ctypes.c_void_p, hid_t)
H5Pclose = _bind("H5Pclose", herr_t, hid_t)
H5Literate2 = _bind("H5Literate2", herr_t, hid_t, ctypes.c_int, ctypes.c_int, ctypes.POINTER(hsize_t),
                    LinkCallback, ctypes.c_void_p)
H5Lvisit_by_name2 = _bind("H5Lvisit_by_name2", herr_t, hid_t, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                          LinkCallback, ctypes.c_void_p, hid_t)
H5Lexists = _bind("H5Lexists", ctypes.c_int, hid_t, ctypes.c_char_p, hid_t)
H5Lget_info2 = _bind("H5Lget_info2", herr_t, hid_t, ctypes.c_char_p, ctypes.POINTER(LinkInfo), hid_t)
H5Lget_val = _bind("H5Lget_val", herr_t, hid_t, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, hid_t)
H5Lunpack_elink_val = _bind("H5Lunpack_elink_val", herr_t, ctypes.c_void_p, ctypes.c_size_t,
                            ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_char_p),
                            ctypes.POINTER(ctypes.c_char_p))
H5Oget_info_by_name3 = _bind("H5Oget_info_by_name3", herr_t, hid_t, ctypes.c_char_p, ctypes.POINTER(ObjectInfo),
                             ctypes.c_uint, hid_t)
H5Ovisit_by_name3 = _bind("H5Ovisit_by_name3", herr_t, hid_t, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                          ObjectCallback, ctypes.c_void_p, ctypes.c_uint, hid_t)
H5Ewalk2 = _bind("H5Ewalk2", herr_t, hid_t, ctypes.c_int, ErrorCallback, ctypes.c_void_p)
H5Orefresh = _bind("H5Orefresh", herr_t, hid_t)


def connector_name(hid: int) -> Optional[str]:
    buf = ctypes.create_string_buffer(64)
    if H5VLget_connector_name(hid, buf, len(buf)) < 0:
        return None
    return buf.value.decode()


def _minor(name: str) -> int:
    return hid_t.in_dll(_lib, name + "_g").value


# h5py's own choice of exception per minor code (h5py/_errors.pyx), for the
# codes these calls produce
_EXCEPTIONS = {
    "H5E_NOTFOUND": KeyError, "H5E_CANTOPENOBJ": KeyError, "H5E_CANTDELETE": KeyError,
    "H5E_EXISTS": ValueError, "H5E_ALREADYEXISTS": ValueError, "H5E_BADVALUE": ValueError,
    "H5E_BADRANGE": ValueError, "H5E_BADTYPE": TypeError, "H5E_UNSUPPORTED": NotImplementedError,
    "H5E_CALLBACK": OSError, "H5E_BADSELECT": ValueError,
}
_EXCEPTION_BY_MINOR = {}


def raise_from_stack(what: str):
    """Raises what h5py raises for the error HDF5 just recorded: the class
    from the top entry's minor code, the text from the top and bottom."""
    if not _EXCEPTION_BY_MINOR:
        _EXCEPTION_BY_MINOR.update({_minor(name): exc for name, exc in _EXCEPTIONS.items()})
    entries = []

    @ErrorCallback
    def collect(n, entry, data):
        entries.append((entry.contents.min_num, (entry.contents.desc or b"").decode(errors="replace")))
        return 0

    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, None)
    if not entries:
        raise RuntimeError(what)
    minor, top = entries[0]
    bottom = entries[-1][1]
    raise _EXCEPTION_BY_MINOR.get(minor, RuntimeError)(f"{top.capitalize()} ({bottom})")


def check(status: int, what: str) -> int:
    if status < 0:
        raise_from_stack(what)
    return status


def creation_order_tracked(loc: int) -> bool:
    # a file id stands for its root group in h5py, but not in H5Gget_create_plist
    gid = check(H5Oopen(loc, b".", H5P_DEFAULT), "H5Oopen")
    try:
        gcpl = check(H5Gget_create_plist(gid), "H5Gget_create_plist")
    finally:
        H5Oclose(gid)
    try:
        flags = ctypes.c_uint(0)
        check(H5Pget_link_creation_order(gcpl, ctypes.byref(flags)), "H5Pget_link_creation_order")
        return bool(flags.value & H5P_CRT_ORDER_TRACKED)
    finally:
        H5Pclose(gcpl)


class _Stop(Exception):
    pass


def _run(call, make_callback, func: Callable):
    """Runs an iterating call with a Python callback: a value other than None
    stops the iteration and is returned; an exception stops it and is
    re-raised here (ctypes would otherwise print and swallow it)."""
    outcome = {}

    def body(*args):
        try:
            value = func(*args)
        except BaseException as exc:  # noqa: B036 - re-raised after the C call returns
            outcome["error"] = exc
            return -1
        if value is not None:
            outcome["value"] = value
            return 1
        return 0

    callback = make_callback(body)
    status = call(callback)
    if "error" in outcome:
        raise outcome["error"]
    if status < 0:
        raise_from_stack("iteration failed")
    return outcome.get("value")


def link_names(gid: int, index: int, order: int) -> list[bytes]:
    names = []

    def each(group, name, info, data):
        names.append(name)

    _run(lambda cb: H5Literate2(gid, index, order, None, cb, None),
         lambda body: LinkCallback(body), each)
    return names


def visit_links(gid: int, func: Callable[[bytes, LinkInfo], object], lapl: int = H5P_DEFAULT):
    return _run(lambda cb: H5Lvisit_by_name2(gid, b".", H5_INDEX_NAME, H5_ITER_INC, cb, None, lapl),
                lambda body: LinkCallback(body),
                lambda group, name, info, data: func(name, info.contents))


def visit_objects(oid: int, func: Callable[[bytes, ObjectInfo], object], fields: int = H5O_INFO_BASIC,
                  name: bytes = b".", lapl: int = H5P_DEFAULT):
    return _run(lambda cb: H5Ovisit_by_name3(oid, name, H5_INDEX_NAME, H5_ITER_INC, cb, None, fields, lapl),
                lambda body: ObjectCallback(body),
                lambda obj, name, info, data: func(name, info.contents))


def link_info(lid: int, name: bytes, lapl: int = H5P_DEFAULT) -> LinkInfo:
    info = LinkInfo()
    check(H5Lget_info2(lid, name, ctypes.byref(info), lapl), "H5Lget_info2")
    return info


def link_value(lid: int, name: bytes, lapl: int = H5P_DEFAULT):
    """A soft link's path (bytes), or an external link's (file, path)."""
    info = link_info(lid, name, lapl)
    buf = ctypes.create_string_buffer(info.u.val_size + 1)
    check(H5Lget_val(lid, name, buf, len(buf), lapl), "H5Lget_val")
    if info.type != H5L_TYPE_EXTERNAL:
        return buf.value
    flags, filename, path = ctypes.c_uint(), ctypes.c_char_p(), ctypes.c_char_p()
    check(H5Lunpack_elink_val(buf, info.u.val_size, ctypes.byref(flags), ctypes.byref(filename),
                              ctypes.byref(path)), "H5Lunpack_elink_val")
    return filename.value, path.value


def object_info(oid: int, name: bytes = b".", fields: int = H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS,
                lapl: int = H5P_DEFAULT) -> ObjectInfo:
    info = ObjectInfo()
    check(H5Oget_info_by_name3(oid, name, ctypes.byref(info), fields, lapl), "H5Oget_info_by_name3")
    return info


def open_by_token(loc: int, token: bytes) -> int:
    """A new identifier for the object with this token in loc's file."""
    value = Token()
    ctypes.memmove(value.data, token, 16)
    return check(H5Oopen_by_token(loc, value), "H5Oopen_by_token")
