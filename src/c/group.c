/* The H5G callbacks. */
#include "bridge.h"

#include <string.h>

void *pv_group_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t lcpl_id, hid_t gcpl_id,
                      hid_t gapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj, *res;
    unsigned  intermediate = 0;
    (void)dxpl_id, (void)req, (void)loc;

    if (!pv_check_plist(gapl_id, H5P_GROUP_ACCESS, "group access")
        || !pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")) {
        pv_error_flush();
        return NULL;
    }
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(NULL);
    /* name is NULL for H5Gcreate_anon */
    res = pv_opened(pv_obj_new(pv_call(H5E_SYM, "group_create", "(ONNONN)", o->py, pv_str_or_none(name),
                             pv_plist_to_py(gcpl_id), intermediate ? Py_True : Py_False,
                             pv_crt_order_to_py(gcpl_id), pv_link_phase_to_py(gcpl_id)), H5I_GROUP), o, name);
    PV_LEAVE();
    return res;
}

void *pv_group_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t gapl_id, hid_t dxpl_id,
                    void **req)
{
    pv_obj_t *o = obj, *res;
    (void)dxpl_id, (void)req, (void)loc;

    if (!pv_check_plist(gapl_id, H5P_GROUP_ACCESS, "group access")) {
        pv_error_flush();
        return NULL;
    }
    PV_ENTER(NULL);
    res = pv_opened(pv_obj_new(pv_call(H5E_SYM, "group_open", "(ON)", o->py, pv_str_or_none(name)), H5I_GROUP), o,
                    name);
    PV_LEAVE();
    return res;
}

herr_t pv_group_get(void *obj, H5VL_group_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_GROUP_GET_GCPL: /* H5Gget_create_plist */
            if ((r = pv_call(H5E_SYM, "group_gcpl", "(O)", o->py))) {
                PyObject *encoded = PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 2 ? PyTuple_GET_ITEM(r, 0) : NULL;
                int       tracked = encoded ? PyObject_IsTrue(PyTuple_GET_ITEM(r, 1)) : 0;

                args->args.get_gcpl.gcpl_id = encoded ? pv_plist_from_py(encoded, H5P_GROUP_CREATE) : -1;
                if (encoded == Py_None && tracked > 0 && args->args.get_gcpl.gcpl_id >= 0
                    && H5Pset_link_creation_order(args->args.get_gcpl.gcpl_id,
                                                  H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
                    H5Pclose(args->args.get_gcpl.gcpl_id);
                    args->args.get_gcpl.gcpl_id = -1;
                }
                ret = args->args.get_gcpl.gcpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_SYM, "group_gcpl");
            }
            break;
        case H5VL_GROUP_GET_INFO: { /* H5Gget_info, H5Gget_info_by_name/idx */
            H5G_info_t *info = args->args.get_info.ginfo;
            long long   nlinks, max_corder;
            int         mounted;
            const char *storage;
            if ((r = pv_call(H5E_SYM, "group_info", "(ON)", o->py, pv_location(o, &args->args.get_info.loc_params)))
                && PyArg_ParseTuple(r, "LLps", &nlinks, &max_corder, &mounted, &storage)) {
                info->storage_type = !strcmp(storage, "dense")          ? H5G_STORAGE_TYPE_DENSE
                                     : !strcmp(storage, "symbol_table") ? H5G_STORAGE_TYPE_SYMBOL_TABLE
                                                                        : H5G_STORAGE_TYPE_COMPACT;
                info->nlinks = (hsize_t)nlinks;
                info->max_corder = (int64_t)max_corder;
                info->mounted = (hbool_t)mounted;
                ret = 0;
            }
            else if (r)
                pv_error_from_python(H5E_SYM, "group_info");
            break;
        }
        default:
            pv_error(H5E_SYM, H5E_UNSUPPORTED, "group get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

herr_t pv_group_specific(void *obj, H5VL_group_specific_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_GROUP_FLUSH: /* H5Gflush */
            ret = pv_call_void(H5E_SYM, "object_flush", "(O)", o->py);
            break;
        case H5VL_GROUP_REFRESH: /* H5Grefresh */
            ret = pv_call_void(H5E_SYM, "object_refresh", "(O)", o->py);
            break;
        case H5VL_GROUP_MOUNT: /* H5Fmount */
            ret = pv_call_void(H5E_SYM, "group_mount", "(ONO)", o->py, pv_str_or_none(args->args.mount.name),
                               ((pv_obj_t *)args->args.mount.child_file)->py);
            break;
        case H5VL_GROUP_UNMOUNT: /* H5Funmount */
            ret = pv_call_void(H5E_SYM, "group_unmount", "(ON)", o->py, pv_str_or_none(args->args.unmount.name));
            break;
        default:
            pv_error(H5E_SYM, H5E_UNSUPPORTED, "group operation %d is not supported", (int)args->op_type);
    }
    PV_LEAVE();
    return ret;
}

herr_t pv_group_close(void *obj, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return pv_close_handle(obj, H5E_SYM, "object_close");
}

/* Native-only group operations; of them only H5Gget_objinfo has a meaning
 * here (object identity for h5py's hash and ==). */
herr_t pv_group_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req)
{
    herr_t ret;

    if (args->op_type != H5VL_NATIVE_GROUP_GET_OBJINFO)
        return pv_unsupported_optional(obj, args, dxpl_id, req);
    {
        H5VL_native_group_get_objinfo_t *info = &((H5VL_native_group_optional_args_t *)args->args)->get_objinfo;

        PV_ENTER(-1);
        ret = pv_object_stat(obj, &info->loc_params, info->statbuf);
        PV_LEAVE();
    }
    return ret;
}
