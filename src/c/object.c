/*
 * Object handles, locations, and the H5O callbacks (H5Oopen, H5Oget_info,
 * H5Iget_name, obj.file in h5py, ...).
 */
#include "bridge.h"

#include <string.h>

pv_obj_t *pv_obj_new(PyObject *py, H5I_type_t kind)
{
    pv_obj_t *obj;

    if (!py)
        return NULL;
    if (!(obj = PyMem_RawMalloc(sizeof *obj))) {
        Py_DECREF(py);
        pv_error(H5E_VOL, H5E_CANTALLOC, "out of memory");
        return NULL;
    }
    obj->py = py;
    obj->kind = kind;
    obj->apl = H5I_INVALID_HID;
    obj->virtual_layout = -1;
    obj->path = NULL;
    obj->io_type = H5I_INVALID_HID;
    {
        static unsigned long instances;
        obj->file_instance = ++instances;
    }
    return obj;
}

pv_obj_t *pv_inherit(pv_obj_t *child, const pv_obj_t *parent)
{
    if (child && parent)
        child->file_instance = parent->file_instance;
    return child;
}

pv_obj_t *pv_opened(pv_obj_t *child, const pv_obj_t *parent, const char *name)
{
    PyObject *path;

    if (!pv_inherit(child, parent) || !name)
        return child;
    path = PyObject_CallMethod(pv_dispatch, "opened_path", "(OOsO)", parent->py,
                               parent->path ? parent->path : Py_None, name, child->py);
    if (path && path != Py_None)
        child->path = path;
    else { /* the name falls back to the object's own: no reason to fail the open */
        Py_XDECREF(path);
        PyErr_Clear();
    }
    return child;
}

void pv_obj_free(pv_obj_t *obj)
{
    if (!obj)
        return;
    if (obj->apl >= 0)
        H5Pclose(obj->apl);
    if (obj->io_type >= 0)
        H5Tclose(obj->io_type);
    Py_XDECREF(obj->py);
    Py_XDECREF(obj->path);
    PyMem_RawFree(obj);
}

herr_t pv_close_handle(pv_obj_t *obj, hid_t major, const char *func)
{
    herr_t ret;

    PV_CLOSE_AFTER_SHUTDOWN(obj);
    PV_ENTER(-1);
    ret = pv_call_void(major, func, "(O)", obj->py);
    /* A failed close leaves HDF5's handle in place (H5Fclose can be tried
     * again, and HDF5 closes what is left at exit): it must stay valid. */
    if (ret >= 0)
        pv_obj_free(obj);
    PV_LEAVE();
    return ret;
}

int pv_copy_name(PyObject *str, char *buf, size_t size, size_t *len_out)
{
    Py_ssize_t  len = 0;
    const char *s = str == Py_None ? "" : PyUnicode_AsUTF8AndSize(str, &len);

    if (!s)
        return -1;
    if (buf && size) {
        size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    if (len_out)
        *len_out = (size_t)len;
    return 0;
}

hid_t pv_register(PyObject *py, H5I_type_t kind)
{
    pv_obj_t *obj;
    hid_t     id;

    Py_INCREF(py);
    if (!(obj = pv_obj_new(py, kind)))
        return H5I_INVALID_HID;
    if ((id = H5VLwrap_register(obj, kind)) < 0) {
        pv_obj_free(obj);
        pv_error(H5E_VOL, H5E_CANTREGISTER, "cannot register an object handle");
    }
    return id;
}

static const char *index_name(H5_index_t idx)
{
    return idx == H5_INDEX_CRT_ORDER ? "crt_order" : "name";
}

static const char *order_name(H5_iter_order_t order)
{
    return order == H5_ITER_DEC ? "decreasing" : order == H5_ITER_INC ? "increasing" : "native";
}

static void close_plist_capsule(PyObject *capsule)
{
    hid_t *id = PyCapsule_GetPointer(capsule, "h5pyvol.plist");

    if (id) {
        H5E_BEGIN_TRY { H5Pclose(*id); } H5E_END_TRY
        free(id);
    }
}

/* A property list id for Python to keep (closed with the capsule). */
PyObject *pv_plist_capsule(hid_t plist)
{
    hid_t    *id = malloc(sizeof *id);
    PyObject *capsule;

    if (!id) {
        H5Pclose(plist);
        return PyErr_NoMemory();
    }
    *id = plist;
    if (!(capsule = PyCapsule_New(id, "h5pyvol.plist", close_plist_capsule))) {
        H5Pclose(plist);
        free(id);
    }
    return capsule;
}

hid_t pv_plist_from_capsule(PyObject *capsule)
{
    hid_t *id = PyCapsule_IsValid(capsule, "h5pyvol.plist") ? PyCapsule_GetPointer(capsule, "h5pyvol.plist") : NULL;

    return id ? *id : H5I_INVALID_HID;
}

/* What a link access list says about files external links open: None, or
 * (access flags, file access list capsule or None). */
static PyObject *elink_access(hid_t lapl)
{
    unsigned flags = H5F_ACC_DEFAULT;
    hid_t    fapl;

    if (lapl == H5P_DEFAULT || lapl == H5P_LINK_ACCESS_DEFAULT || lapl < 0)
        Py_RETURN_NONE;
    H5Pget_elink_acc_flags(lapl, &flags);
    fapl = H5Pget_elink_fapl(lapl);
    if (fapl > H5P_DEFAULT) {
        hid_t kept = pv_fapl_copy(fapl);
        H5Pclose(fapl);
        fapl = kept;
    }
    if (flags == H5F_ACC_DEFAULT && fapl <= H5P_DEFAULT)
        Py_RETURN_NONE;
    return Py_BuildValue("(IN)", flags, fapl > H5P_DEFAULT ? pv_plist_capsule(fapl) : Py_NewRef(Py_None));
}

/* ("self",) | ("name", path, elink access) | ("index", path, index, order, n) | ("token", bytes) */
PyObject *pv_location(const pv_obj_t *obj, const H5VL_loc_params_t *loc)
{
    (void)obj;
    switch (loc ? loc->type : H5VL_OBJECT_BY_SELF) {
        case H5VL_OBJECT_BY_SELF:
            return Py_BuildValue("(s)", "self");
        case H5VL_OBJECT_BY_NAME:
            return Py_BuildValue("(sNN)", "name", pv_str_or_none(loc->loc_data.loc_by_name.name),
                                 elink_access(loc->loc_data.loc_by_name.lapl_id));
        case H5VL_OBJECT_BY_IDX:
            return Py_BuildValue("(sNssK)", "index", pv_str_or_none(loc->loc_data.loc_by_idx.name),
                                 index_name(loc->loc_data.loc_by_idx.idx_type),
                                 order_name(loc->loc_data.loc_by_idx.order),
                                 (unsigned long long)loc->loc_data.loc_by_idx.n);
        case H5VL_OBJECT_BY_TOKEN:
            return Py_BuildValue("(sy#)", "token", (const char *)loc->loc_data.loc_by_token.token,
                                 (Py_ssize_t)sizeof(H5O_token_t));
    }
    return PyErr_Format(PyExc_ValueError, "unknown location type %d", (int)loc->type);
}

/* Wraps a (kind, object) pair from Python in a handle. */
pv_obj_t *pv_obj_from_pair(PyObject *pair, H5I_type_t *kind_out)
{
    PyObject  *kind_name, *py;
    H5I_type_t kind;

    if (!pair)
        return NULL;
    if (!PyArg_ParseTuple(pair, "OO", &kind_name, &py) || (kind = pv_kind_from_py(kind_name)) == H5I_BADID) {
        PyErr_Clear();
        pv_error(H5E_OHDR, H5E_BADTYPE, "connector returned %s, not a (kind, object) pair",
                 Py_TYPE(pair)->tp_name);
        Py_DECREF(pair);
        return NULL;
    }
    Py_INCREF(py);
    Py_DECREF(pair);
    if (kind_out)
        *kind_out = kind;
    return pv_obj_new(py, kind);
}

void *pv_object_open(void *obj, const H5VL_loc_params_t *loc, H5I_type_t *opened_type, hid_t dxpl_id,
                     void **req)
{
    pv_obj_t *o = obj, *res;
    (void)dxpl_id, (void)req;

    PV_ENTER(NULL);
    res = pv_opened(pv_obj_from_pair(pv_call(H5E_OHDR, "object_open", "(ON)", o->py, pv_location(o, loc)),
                                     opened_type),
                    o, loc && loc->type == H5VL_OBJECT_BY_NAME ? loc->loc_data.loc_by_name.name : NULL);
    PV_LEAVE();
    return res;
}

static H5O_type_t otype(PyObject *kind)
{
    switch (pv_kind_from_py(kind)) {
        case H5I_GROUP: return H5O_TYPE_GROUP;
        case H5I_DATASET: return H5O_TYPE_DATASET;
        case H5I_DATATYPE: return H5O_TYPE_NAMED_DATATYPE;
        default: return H5O_TYPE_UNKNOWN;
    }
}

int pv_token_from_py(PyObject *bytes, H5O_token_t *token)
{
    char      *buf;
    Py_ssize_t len;

    if (PyBytes_AsStringAndSize(bytes, &buf, &len) < 0)
        return -1;
    memset(token, 0, sizeof *token);
    memcpy(token, buf, (size_t)len < sizeof *token ? (size_t)len : sizeof *token);
    return 0;
}

/* Fills an H5O_info2_t from the dict dispatch.object_info returns. */
static int fill_oinfo(PyObject *d, H5O_info2_t *oinfo)
{
    PyObject *v;

    memset(oinfo, 0, sizeof *oinfo);
    if (!PyDict_Check(d))
        return -1;
    if ((v = PyDict_GetItemString(d, "token")) && pv_token_from_py(v, &oinfo->token) < 0)
        return -1;
    if ((v = PyDict_GetItemString(d, "type")))
        oinfo->type = otype(v);
    if ((v = PyDict_GetItemString(d, "fileno")))
        oinfo->fileno = PyLong_AsUnsignedLong(v);
    if ((v = PyDict_GetItemString(d, "rc")))
        oinfo->rc = (unsigned)PyLong_AsUnsignedLong(v);
    if ((v = PyDict_GetItemString(d, "num_attrs")))
        oinfo->num_attrs = (hsize_t)PyLong_AsUnsignedLongLong(v);
    if ((v = PyDict_GetItemString(d, "atime")))
        oinfo->atime = (time_t)PyLong_AsLongLong(v);
    if ((v = PyDict_GetItemString(d, "mtime")))
        oinfo->mtime = (time_t)PyLong_AsLongLong(v);
    if ((v = PyDict_GetItemString(d, "ctime")))
        oinfo->ctime = (time_t)PyLong_AsLongLong(v);
    if ((v = PyDict_GetItemString(d, "btime")))
        oinfo->btime = (time_t)PyLong_AsLongLong(v);
    return PyErr_Occurred() ? -1 : 0;
}

/* H5Gget_objinfo (version 1, reached through the group class's optional
 * callback): h5py hashes and compares every object with it.  The object
 * number is the token, so two handles on one object compare equal. */
herr_t pv_object_stat(pv_obj_t *o, const H5VL_loc_params_t *loc, H5G_stat_t *stat)
{
    H5O_info2_t info;
    PyObject   *r;
    herr_t      ret = -1;

    if ((r = pv_call(H5E_SYM, "object_info", "(ONI)", o->py, pv_location(o, loc), (unsigned)H5O_INFO_ALL))) {
        if (fill_oinfo(r, &info) == 0) {
            memset(stat, 0, sizeof *stat);
            stat->fileno[0] = info.fileno;
            memcpy(stat->objno, &info.token,
                   sizeof stat->objno < sizeof info.token ? sizeof stat->objno : sizeof info.token);
            stat->nlink = info.rc;
            stat->type  = info.type == H5O_TYPE_GROUP            ? H5G_GROUP
                          : info.type == H5O_TYPE_DATASET        ? H5G_DATASET
                          : info.type == H5O_TYPE_NAMED_DATATYPE ? H5G_TYPE
                                                                 : H5G_UNKNOWN;
            stat->mtime = info.mtime;
            ret         = 0;
        }
        else
            pv_error_from_python(H5E_SYM, "object_info");
        Py_DECREF(r);
    }
    return ret;
}

herr_t pv_object_get(void *obj, const H5VL_loc_params_t *loc, H5VL_object_get_args_t *args, hid_t dxpl_id,
                     void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_OBJECT_GET_FILE: /* H5Iget_file_id, h5py's obj.file */
            if ((r = pv_call(H5E_OHDR, "object_file", "(O)", o->py))) {
                Py_INCREF(r);
                *args->args.get_file.file = pv_inherit(pv_obj_new(r, H5I_FILE), o);
                ret = *args->args.get_file.file ? 0 : -1;
            }
            break;
        case H5VL_OBJECT_GET_NAME: /* H5Iget_name, h5py's obj.name */
            if ((r = pv_call(H5E_OHDR, "object_name", "(ONO)", o->py, pv_location(o, loc),
                             o->path ? o->path : Py_None))) {
                if (pv_copy_name(r, args->args.get_name.buf, args->args.get_name.buf_size,
                                 args->args.get_name.name_len) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_OHDR, "object_name");
            }
            break;
        case H5VL_OBJECT_GET_TYPE: /* H5Oget_info's type, H5Rget_obj_type */
            if ((r = pv_call(H5E_OHDR, "object_type", "(ON)", o->py, pv_location(o, loc)))) {
                *args->args.get_type.obj_type = otype(r);
                ret = 0;
            }
            break;
        case H5VL_OBJECT_GET_INFO: /* H5Oget_info3, H5Oget_info_by_name3, ... */
            if ((r = pv_call(H5E_OHDR, "object_info", "(ONI)", o->py, pv_location(o, loc),
                             args->args.get_info.fields))) {
                if (fill_oinfo(r, args->args.get_info.oinfo) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_OHDR, "object_info");
            }
            break;
        default:
            pv_error(H5E_OHDR, H5E_UNSUPPORTED, "object get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

/* H5Ovisit3, H5Ovisit_by_name3: objects (not links), each once, starting
 * with the object itself as "."; the callback gets an id for the start. */
static herr_t visit(pv_obj_t *o, const H5VL_loc_params_t *loc, H5VL_object_visit_args_t *v)
{
    PyObject  *result, *pair, *entries;
    pv_obj_t  *start;
    H5I_type_t kind;
    hid_t      sid;
    herr_t     ret = 0;
    Py_ssize_t i;

    /* ((kind, object), [(path, info dict), ...]) */
    if (!(result = pv_call(H5E_OHDR, "object_visit", "(ONssI)", o->py, pv_location(o, loc),
                           v->idx_type == H5_INDEX_CRT_ORDER ? "crt_order" : "name",
                           v->order == H5_ITER_DEC ? "decreasing" : "increasing", v->fields)))
        return -1;
    if (!PyArg_ParseTuple(result, "OO", &pair, &entries) || !PyList_Check(entries)) {
        PyErr_Clear();
        Py_DECREF(result);
        pv_error(H5E_OHDR, H5E_BADITER, "object_visit must return (object, list)");
        return -1;
    }
    Py_INCREF(pair);
    Py_INCREF(entries);
    Py_DECREF(result);
    if (!(start = pv_inherit(pv_obj_from_pair(pair, &kind), o)) || (sid = H5VLwrap_register(start, kind)) < 0) {
        pv_obj_free(start);
        Py_DECREF(entries);
        pv_error(H5E_OHDR, H5E_CANTREGISTER, "cannot register the object for visiting");
        return -1;
    }
    for (i = 0; i < PyList_GET_SIZE(entries) && ret == 0; i++) {
        const char    *path;
        PyObject      *d;
        H5O_info2_t    info;
        PyThreadState *ts;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(entries, i), "sO", &path, &d) || fill_oinfo(d, &info) < 0) {
            pv_error_from_python(H5E_OHDR, "object_visit");
            ret = -1;
            break;
        }
        ts = PyEval_SaveThread();
        ret = v->op(sid, path, &info, v->op_data);
        PyEval_RestoreThread(ts);
    }
    if (ret < 0)
        pv_error(H5E_OHDR, H5E_CALLBACK, "object visit callback failed");
    Py_DECREF(entries);
    H5Idec_ref(sid);
    return ret;
}

/* H5Ocopy */
herr_t pv_object_copy(void *src_obj, const H5VL_loc_params_t *loc1, const char *src_name, void *dst_obj,
                      const H5VL_loc_params_t *loc2, const char *dst_name, hid_t ocpypl_id, hid_t lcpl_id,
                      hid_t dxpl_id, void **req)
{
    pv_obj_t *src = src_obj, *dst = dst_obj;
    unsigned  flags = 0, intermediate = 0;
    herr_t    ret;
    (void)dxpl_id, (void)req;

    if (!pv_check_plist(ocpypl_id, H5P_OBJECT_COPY, "object copy")
        || !pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")) {
        pv_error_flush();
        return -1;
    }
    H5Pget_copy_object(ocpypl_id == H5P_DEFAULT ? H5P_OBJECT_COPY_DEFAULT : ocpypl_id, &flags);
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(-1);
    ret = pv_call_void(H5E_OHDR, "object_copy", "(ONNONNIO)", src->py, pv_location(src, loc1),
                       pv_str_or_none(src_name), dst->py, pv_location(dst, loc2), pv_str_or_none(dst_name), flags,
                       intermediate ? Py_True : Py_False);
    PV_LEAVE();
    return ret;
}

herr_t pv_object_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_object_specific_args_t *args,
                          hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_OBJECT_EXISTS: /* H5Oexists_by_name */
            if ((r = pv_call(H5E_OHDR, "object_exists", "(ON)", o->py, pv_location(o, loc)))) {
                *args->args.exists.exists = PyObject_IsTrue(r) > 0;
                ret = 0;
            }
            break;
        case H5VL_OBJECT_LOOKUP: /* H5Oget_token_by_name (via H5Oopen_by_token tests) */
            if ((r = pv_call(H5E_OHDR, "object_token", "(ON)", o->py, pv_location(o, loc)))
                && pv_token_from_py(r, args->args.lookup.token_ptr) == 0)
                ret = 0;
            else if (r)
                pv_error_from_python(H5E_OHDR, "object_token");
            break;
        case H5VL_OBJECT_VISIT: /* H5Ovisit3, H5Ovisit_by_name3 */
            ret = visit(o, loc, &args->args.visit);
            break;
        case H5VL_OBJECT_CHANGE_REF_COUNT: /* H5Oincr_refcount, H5Odecr_refcount */
            ret = pv_call_void(H5E_OHDR, "object_change_refcount", "(ONi)", o->py, pv_location(o, loc),
                               args->args.change_rc.delta);
            break;
        case H5VL_OBJECT_FLUSH:   /* H5Oflush, H5Dflush, H5Gflush, H5Tflush */
        case H5VL_OBJECT_REFRESH: /* H5Orefresh, ... */
            ret = pv_call_void(H5E_OHDR, args->op_type == H5VL_OBJECT_FLUSH ? "object_flush" : "object_refresh",
                               "(O)", o->py);
            break;
        default:
            pv_error(H5E_OHDR, H5E_UNSUPPORTED, "object operation %d is not supported yet", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}
