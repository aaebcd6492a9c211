/* The H5A callbacks.  Element I/O is in io.c (an attribute is read and
 * written whole). */
#include "bridge.h"

#include <string.h>

void *pv_attr_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t type_id, hid_t space_id,
                     hid_t acpl_id, hid_t aapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj, *res = NULL;
    PyObject *spec, *extent;
    (void)dxpl_id, (void)req;

    if (!pv_check_plist(acpl_id, H5P_ATTRIBUTE_CREATE, "attribute creation")
        || !pv_check_plist(aapl_id, H5P_ATTRIBUTE_ACCESS, "attribute access")) {
        pv_error_flush();
        return NULL;
    }
    PV_ENTER(NULL);
    spec = pv_type_to_py(type_id);
    extent = spec ? pv_space_to_py(space_id) : NULL;
    if (!spec || !extent) {
        Py_XDECREF(spec);
        pv_error_from_python(H5E_ATTR, "attr_create");
    }
    else
        res = pv_inherit(pv_obj_new(pv_call(H5E_ATTR, "attr_create", "(ONNNNNN)", o->py, pv_location(o, loc),
                                 pv_str_or_none(name), spec, extent, pv_plist_to_py(acpl_id),
                                 pv_named_type_of(type_id)), H5I_ATTR), o);
    PV_LEAVE();
    return res;
}

void *pv_attr_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t aapl_id, hid_t dxpl_id,
                   void **req)
{
    pv_obj_t *o = obj, *res;
    (void)dxpl_id, (void)req;

    if (!pv_check_plist(aapl_id, H5P_ATTRIBUTE_ACCESS, "attribute access")) {
        pv_error_flush();
        return NULL;
    }
    PV_ENTER(NULL);
    res = pv_inherit(pv_obj_new(pv_call(H5E_ATTR, "attr_open", "(ONN)", o->py, pv_location(o, loc), pv_str_or_none(name)), H5I_ATTR), o);
    PV_LEAVE();
    return res;
}

herr_t pv_attr_read(void *attr, hid_t mem_type_id, void *buf, hid_t dxpl_id, void **req)
{
    herr_t ret;
    (void)req;

    PV_ENTER(-1);
    ret = pv_io_read(&pv_attr_io, attr, mem_type_id, H5S_ALL, H5S_ALL, dxpl_id, buf);
    PV_LEAVE();
    return ret;
}

herr_t pv_attr_write(void *attr, hid_t mem_type_id, const void *buf, hid_t dxpl_id, void **req)
{
    herr_t ret;
    (void)req;

    PV_ENTER(-1);
    ret = pv_io_write(&pv_attr_io, attr, mem_type_id, H5S_ALL, H5S_ALL, dxpl_id, buf);
    PV_LEAVE();
    return ret;
}

herr_t pv_attr_get(void *obj, H5VL_attr_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_ATTR_GET_ACPL: /* H5Aget_create_plist */
            if ((r = pv_call(H5E_ATTR, "attr_acpl", "(O)", o->py))) {
                args->args.get_acpl.acpl_id = pv_plist_from_py(r, H5P_ATTRIBUTE_CREATE);
                ret = args->args.get_acpl.acpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_ATTR, "attr_acpl");
            }
            break;
        case H5VL_ATTR_GET_INFO: { /* H5Aget_info, _by_name, _by_idx */
            H5A_info_t *info = args->args.get_info.ainfo;
            long long   corder;
            int         utf8;
            Py_ssize_t  size;
            if ((r = pv_call(H5E_ATTR, "attr_info", "(ONN)", o->py, pv_location(o, &args->args.get_info.loc_params),
                             pv_str_or_none(args->args.get_info.attr_name)))
                && PyArg_ParseTuple(r, "Lpn", &corder, &utf8, &size)) {
                info->corder_valid = corder >= 0;
                info->corder = (H5O_msg_crt_idx_t)(corder >= 0 ? corder : 0);
                info->cset = utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII;
                info->data_size = (hsize_t)size;
                ret = 0;
            }
            else if (r)
                pv_error_from_python(H5E_ATTR, "attr_info");
            break;
        }
        case H5VL_ATTR_GET_NAME: /* H5Aget_name, H5Aget_name_by_idx */
            if ((r = pv_call(H5E_ATTR, "attr_name", "(ON)", o->py, pv_location(o, &args->args.get_name.loc_params)))) {
                if (pv_copy_name(r, args->args.get_name.buf, args->args.get_name.buf_size,
                              args->args.get_name.attr_name_len) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_ATTR, "attr_name");
            }
            break;
        case H5VL_ATTR_GET_SPACE: /* H5Aget_space */
            ret = (args->args.get_space.space_id = pv_io_space(&pv_attr_io, o)) < 0 ? -1 : 0;
            break;
        case H5VL_ATTR_GET_TYPE: /* H5Aget_type: committed if created with one */
            if ((r = pv_call(H5E_ATTR, "attr_named_type", "(O)", o->py))) {
                if (r == Py_None)
                    args->args.get_type.type_id = pv_io_type(&pv_attr_io, o);
                else
                    args->args.get_type.type_id = pv_register(r, H5I_DATATYPE);
                ret = args->args.get_type.type_id < 0 ? -1 : 0;
            }
            break;
        case H5VL_ATTR_GET_STORAGE_SIZE: /* H5Aget_storage_size */
            if ((r = pv_call(H5E_ATTR, "attr_storage_size", "(O)", o->py))) {
                *args->args.get_storage_size.data_size = (hsize_t)PyLong_AsUnsignedLongLong(r);
                ret = 0;
            }
            break;
        default:
            pv_error(H5E_ATTR, H5E_UNSUPPORTED, "attribute get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

/* H5Aiterate2: the user's callback gets an id for the object. */
static herr_t iterate(pv_obj_t *o, const H5VL_loc_params_t *loc, H5VL_attr_iterate_args_t *it)
{
    PyObject  *result, *pair, *attrs;
    pv_obj_t  *target;
    H5I_type_t kind;
    hid_t      oid;
    herr_t     ret = 0;
    Py_ssize_t i, n;

    /* ((kind, object), [(name, corder, utf8, data_size), ...]) */
    if (!(result = pv_call(H5E_ATTR, "attr_iterate", "(ONss)", o->py, pv_location(o, loc),
                           it->idx_type == H5_INDEX_CRT_ORDER ? "crt_order" : "name",
                           it->order == H5_ITER_DEC ? "decreasing" : "increasing")))
        return -1;
    if (!PyArg_ParseTuple(result, "OO", &pair, &attrs) || !PyList_Check(attrs)) {
        PyErr_Clear();
        Py_DECREF(result);
        pv_error(H5E_ATTR, H5E_BADITER, "attr_iterate must return (object, list)");
        return -1;
    }
    Py_INCREF(pair);
    Py_INCREF(attrs);
    Py_DECREF(result);
    if (!(target = pv_inherit(pv_obj_from_pair(pair, &kind), o))) {
        Py_DECREF(attrs);
        return -1;
    }
    if ((oid = H5VLwrap_register(target, kind)) < 0) {
        pv_obj_free(target);
        Py_DECREF(attrs);
        pv_error(H5E_ATTR, H5E_CANTREGISTER, "cannot register the object for iteration");
        return -1;
    }
    n = PyList_GET_SIZE(attrs);
    if (it->idx && *it->idx > (hsize_t)n) {
        pv_error(H5E_ATTR, H5E_BADRANGE, "iteration index %llu is past the %zd attributes",
                 (unsigned long long)*it->idx, n);
        ret = -1;
    }
    for (i = it->idx ? (Py_ssize_t)*it->idx : 0; ret == 0 && i < n; i++) {
        const char    *name;
        long long      corder;
        int            utf8;
        Py_ssize_t     size;
        H5A_info_t     info;
        PyThreadState *ts;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(attrs, i), "sLpn", &name, &corder, &utf8, &size)) {
            pv_error_from_python(H5E_ATTR, "attr_iterate");
            ret = -1;
            break;
        }
        info.corder_valid = corder >= 0;
        info.corder = (H5O_msg_crt_idx_t)(corder >= 0 ? corder : 0);
        info.cset = utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII;
        info.data_size = (hsize_t)size;
        ts = PyEval_SaveThread();
        ret = it->op(oid, name, &info, it->op_data);
        PyEval_RestoreThread(ts);
        if (it->idx)
            *it->idx = (hsize_t)i + 1;
    }
    if (ret < 0)
        pv_error(H5E_ATTR, H5E_CALLBACK, "attribute iteration callback failed");
    Py_DECREF(attrs);
    H5Idec_ref(oid);
    return ret;
}

herr_t pv_attr_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_attr_specific_args_t *args, hid_t dxpl_id,
                        void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_ATTR_DELETE: /* H5Adelete, H5Adelete_by_name */
            ret = pv_call_void(H5E_ATTR, "attr_delete", "(ONN)", o->py, pv_location(o, loc),
                               pv_str_or_none(args->args.del.name));
            break;
        case H5VL_ATTR_DELETE_BY_IDX: /* H5Adelete_by_idx */
            ret = pv_call_void(H5E_ATTR, "attr_delete_by_idx", "(ONssK)", o->py, pv_location(o, loc),
                               args->args.delete_by_idx.idx_type == H5_INDEX_CRT_ORDER ? "crt_order" : "name",
                               args->args.delete_by_idx.order == H5_ITER_DEC ? "decreasing" : "increasing",
                               (unsigned long long)args->args.delete_by_idx.n);
            break;
        case H5VL_ATTR_EXISTS: /* H5Aexists, H5Aexists_by_name */
            if ((r = pv_call(H5E_ATTR, "attr_exists", "(ONN)", o->py, pv_location(o, loc),
                             pv_str_or_none(args->args.exists.name)))) {
                *args->args.exists.exists = PyObject_IsTrue(r) > 0;
                ret = 0;
            }
            break;
        case H5VL_ATTR_ITER: /* H5Aiterate2, H5Aiterate_by_name */
            ret = iterate(o, loc, &args->args.iterate);
            break;
        case H5VL_ATTR_RENAME: /* H5Arename, H5Arename_by_name */
            ret = pv_call_void(H5E_ATTR, "attr_rename", "(ONNN)", o->py, pv_location(o, loc),
                               pv_str_or_none(args->args.rename.old_name), pv_str_or_none(args->args.rename.new_name));
            break;
        default:
            pv_error(H5E_ATTR, H5E_UNSUPPORTED, "attribute operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

herr_t pv_attr_close(void *obj, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return pv_close_handle(obj, H5E_ATTR, "object_close");
}
