/* The H5L callbacks. */
#include "bridge.h"

#include <string.h>

/* Python describes a link as (name, type, token, corder, value_size) with
 * type an H5L_type_t value (hard 0, soft 1, external 64, user-defined 65+). */
static int fill_linfo(PyObject *desc, const char **name, H5L_info2_t *info)
{
    int        type;
    PyObject  *token;
    long long  corder;
    Py_ssize_t valsize;

    memset(info, 0, sizeof *info);
    if (!PyArg_ParseTuple(desc, "ziOLn", name, &type, &token, &corder, &valsize))
        return -1;
    info->type = (H5L_type_t)type;
    info->corder_valid = corder >= 0;
    info->corder = corder;
    info->cset = H5T_CSET_ASCII;
    if (info->type == H5L_TYPE_HARD)
        return token == Py_None ? 0 : pv_token_from_py(token, &info->u.token);
    info->u.val_size = (size_t)valsize;
    return 0;
}

herr_t pv_link_create(H5VL_link_create_args_t *args, void *obj, const H5VL_loc_params_t *loc, hid_t lcpl_id,
                      hid_t lapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t   *o = obj;
    unsigned    intermediate = 0, flags;
    const char *file, *path;
    herr_t      ret = -1;
    (void)dxpl_id, (void)req;

    if (!pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")
        || !pv_check_plist(lapl_id, H5P_LINK_ACCESS, "link access")) {
        pv_error_flush();
        return -1;
    }
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_LINK_CREATE_HARD: { /* H5Lcreate_hard, H5Olink */
            /* H5L_SAME_LOC on either side leaves that object NULL */
            pv_obj_t *target = args->args.hard.curr_obj ? args->args.hard.curr_obj : o;
            if (!o)
                o = target;
            ret = pv_call_void(H5E_LINK, "link_create_hard", "(ONONO)", o->py, pv_location(o, loc), target->py,
                               pv_location(target, &args->args.hard.curr_loc_params),
                               intermediate ? Py_True : Py_False);
            break;
        }
        case H5VL_LINK_CREATE_SOFT: /* H5Lcreate_soft */
            ret = pv_call_void(H5E_LINK, "link_create_soft", "(ONNO)", o->py, pv_location(o, loc),
                               pv_str_or_none(args->args.soft.target), intermediate ? Py_True : Py_False);
            break;
        case H5VL_LINK_CREATE_UD: /* H5Lcreate_external, H5Lcreate_ud */
            if (args->args.ud.type == H5L_TYPE_EXTERNAL
                && H5Lunpack_elink_val(args->args.ud.buf, args->args.ud.buf_size, &flags, &file, &path) >= 0)
                ret = pv_call_void(H5E_LINK, "link_create_external", "(ONNNO)", o->py, pv_location(o, loc),
                                   pv_str_or_none(file), pv_str_or_none(path), intermediate ? Py_True : Py_False);
            else /* H5Lcreate_ud: kept as its type and bytes */
                ret = pv_call_void(H5E_LINK, "link_create_ud", "(ONiy#O)", o->py, pv_location(o, loc),
                                   (int)args->args.ud.type, (const char *)args->args.ud.buf,
                                   (Py_ssize_t)args->args.ud.buf_size, intermediate ? Py_True : Py_False);
            break;
        default:
            pv_error(H5E_LINK, H5E_UNSUPPORTED, "link create operation %d is not supported", (int)args->op_type);
    }
    PV_LEAVE();
    return ret;
}

/* H5Lcopy and H5Lmove; H5L_SAME_LOC leaves one side NULL. */
static herr_t copy_or_move(const char *func, void *src_obj, const H5VL_loc_params_t *loc1, void *dst_obj,
                           const H5VL_loc_params_t *loc2, hid_t lcpl_id, hid_t lapl_id)
{
    pv_obj_t *src = src_obj ? src_obj : dst_obj, *dst = dst_obj ? dst_obj : src_obj;
    unsigned  intermediate = 0;
    herr_t    ret;

    if (!pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")
        || !pv_check_plist(lapl_id, H5P_LINK_ACCESS, "link access")) {
        pv_error_flush();
        return -1;
    }
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(-1);
    ret = pv_call_void(H5E_LINK, func, "(ONONO)", src->py, pv_location(src, loc1), dst->py, pv_location(dst, loc2),
                       intermediate ? Py_True : Py_False);
    PV_LEAVE();
    return ret;
}

herr_t pv_link_copy(void *src_obj, const H5VL_loc_params_t *loc1, void *dst_obj, const H5VL_loc_params_t *loc2,
                    hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return copy_or_move("link_copy", src_obj, loc1, dst_obj, loc2, lcpl_id, lapl_id);
}

herr_t pv_link_move(void *src_obj, const H5VL_loc_params_t *loc1, void *dst_obj, const H5VL_loc_params_t *loc2,
                    hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return copy_or_move("link_move", src_obj, loc1, dst_obj, loc2, lcpl_id, lapl_id);
}

herr_t pv_link_get(void *obj, const H5VL_loc_params_t *loc, H5VL_link_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t   *o = obj;
    PyObject   *r = NULL;
    const char *name;
    herr_t      ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_LINK_GET_INFO: /* H5Lget_info2 */
            if ((r = pv_call(H5E_LINK, "link_info", "(ON)", o->py, pv_location(o, loc)))) {
                if (fill_linfo(r, &name, args->args.get_info.linfo) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_LINK, "link_info");
            }
            break;
        case H5VL_LINK_GET_NAME: /* H5Lget_name_by_idx */
            if ((r = pv_call(H5E_LINK, "link_name", "(ON)", o->py, pv_location(o, loc)))) {
                if (pv_copy_name(r, args->args.get_name.name, args->args.get_name.name_size,
                                 args->args.get_name.name_len) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_LINK, "link_name");
            }
            break;
        case H5VL_LINK_GET_VAL: /* H5Lget_val: soft link path, or packed external link */
            if ((r = pv_call(H5E_LINK, "link_value", "(ON)", o->py, pv_location(o, loc)))) {
                char      *buf;
                Py_ssize_t len;
                if (PyBytes_AsStringAndSize(r, &buf, &len) == 0) {
                    size_t size = args->args.get_val.buf_size;
                    if (args->args.get_val.buf && size)
                        memcpy(args->args.get_val.buf, buf, (size_t)len < size ? (size_t)len : size);
                    ret = 0;
                }
                else
                    pv_error_from_python(H5E_LINK, "link_value");
            }
            break;
        default:
            pv_error(H5E_LINK, H5E_UNSUPPORTED, "link get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

/* H5Literate2 / H5Lvisit2: the user's callback gets an id for the group. */
static herr_t iterate(pv_obj_t *o, const H5VL_loc_params_t *loc, H5VL_link_iterate_args_t *it)
{
    PyObject      *result, *links, *group = NULL;
    hid_t          gid = H5I_INVALID_HID;
    herr_t         ret = 0;
    Py_ssize_t     i, n;
    hsize_t        start = it->idx_p ? *it->idx_p : 0;
    pv_obj_t      *target;

    /* (group object, [link descriptions]) */
    result = pv_call(H5E_LINK, "link_iterate", "(ONOss)", o->py, pv_location(o, loc), it->recursive ? Py_True : Py_False,
                    it->idx_type == H5_INDEX_CRT_ORDER ? "crt_order" : "name",
                    it->order == H5_ITER_DEC ? "decreasing" : "increasing");
    if (!result)
        return -1;
    if (!PyArg_ParseTuple(result, "OO", &group, &links) || !PyList_Check(links)) {
        PyErr_Clear();
        Py_DECREF(result);
        pv_error(H5E_LINK, H5E_BADITER, "link_iterate must return (group, list)");
        return -1;
    }
    Py_INCREF(links);
    Py_INCREF(group);
    Py_DECREF(result);
    if (!(target = pv_inherit(pv_obj_new(group, H5I_GROUP), o)))
        goto fail;
    if ((gid = H5VLwrap_register(target, H5I_GROUP)) < 0) {
        pv_obj_free(target);
        pv_error(H5E_LINK, H5E_CANTREGISTER, "cannot register the group for iteration");
        goto fail;
    }
    n = PyList_GET_SIZE(links);
    if (start > (hsize_t)n) {
        pv_error(H5E_LINK, H5E_BADRANGE, "iteration index %llu is past the %zd links", (unsigned long long)start, n);
        ret = -1;
    }
    for (i = (Py_ssize_t)start; ret == 0 && i < n; i++) {
        const char    *name;
        H5L_info2_t    info;
        PyThreadState *ts;
        if (fill_linfo(PyList_GET_ITEM(links, i), &name, &info) < 0) {
            pv_error_from_python(H5E_LINK, "link_iterate");
            ret = -1;
            break;
        }
        /* The user's callback may call HDF5 (and so us) from any thread. */
        ts = PyEval_SaveThread();
        ret = it->op(gid, name, &info, it->op_data);
        PyEval_RestoreThread(ts);
        if (it->idx_p)
            *it->idx_p = (hsize_t)i + 1;
    }
    if (ret < 0)
        pv_error(H5E_LINK, H5E_CALLBACK, "link iteration callback failed");
    Py_DECREF(links);
    H5Idec_ref(gid);
    return ret;
fail:
    Py_DECREF(links);
    return -1;
}

herr_t pv_link_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_link_specific_args_t *args, hid_t dxpl_id,
                        void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_LINK_EXISTS: /* H5Lexists */
            if ((r = pv_call(H5E_LINK, "link_exists", "(ON)", o->py, pv_location(o, loc)))) {
                *args->args.exists.exists = PyObject_IsTrue(r) > 0;
                ret = 0;
            }
            break;
        case H5VL_LINK_DELETE: /* H5Ldelete, H5Ldelete_by_idx */
            ret = pv_call_void(H5E_LINK, "link_delete", "(ON)", o->py, pv_location(o, loc));
            break;
        case H5VL_LINK_ITER: /* H5Literate2, H5Lvisit2 */
            ret = iterate(o, loc, &args->args.iterate);
            break;
        default:
            pv_error(H5E_LINK, H5E_UNSUPPORTED, "link operation %d is not supported yet", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}
