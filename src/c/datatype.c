/* The H5T callbacks: committed (named) datatypes. */
#include "bridge.h"

/* The committed datatype behind a type id, or None. */
PyObject *pv_named_type_of(hid_t type_id)
{
    pv_obj_t *named;

    if (H5Tcommitted(type_id) > 0 && (named = H5VLobject(type_id)) && named->kind == H5I_DATATYPE) {
        Py_INCREF(named->py);
        return named->py;
    }
    Py_RETURN_NONE;
}

void *pv_datatype_commit(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t type_id, hid_t lcpl_id,
                         hid_t tcpl_id, hid_t tapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj, *res;
    unsigned  intermediate = 0;
    PyObject *spec;
    (void)loc, (void)dxpl_id, (void)req;

    if (!pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")
        || !pv_check_plist(tcpl_id, H5P_DATATYPE_CREATE, "datatype creation")
        || !pv_check_plist(tapl_id, H5P_DATATYPE_ACCESS, "datatype access")) {
        pv_error_flush();
        return NULL;
    }
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(NULL);
    if (!(spec = pv_type_to_py(type_id))) {
        pv_error_from_python(H5E_DATATYPE, "datatype_commit");
        res = NULL;
    }
    else
        /* name is NULL for H5Tcommit_anon */
        res = pv_opened(pv_obj_new(pv_call(H5E_DATATYPE, "datatype_commit", "(ONNNON)", o->py, pv_str_or_none(name), spec,
                                 pv_plist_to_py(tcpl_id == H5P_DEFAULT ? H5P_DATATYPE_CREATE_DEFAULT : tcpl_id),
                                 intermediate ? Py_True : Py_False, pv_crt_order_to_py(tcpl_id)), H5I_DATATYPE), o, name);
    PV_LEAVE();
    return res;
}

void *pv_datatype_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t tapl_id, hid_t dxpl_id,
                       void **req)
{
    pv_obj_t *o = obj, *res;
    (void)loc, (void)dxpl_id, (void)req;

    if (!pv_check_plist(tapl_id, H5P_DATATYPE_ACCESS, "datatype access")) {
        pv_error_flush();
        return NULL;
    }
    PV_ENTER(NULL);
    res = pv_opened(pv_obj_new(pv_call(H5E_DATATYPE, "datatype_open", "(ON)", o->py, pv_str_or_none(name)), H5I_DATATYPE),
                    o, name);
    PV_LEAVE();
    return res;
}

/* H5Tencode of the stored type: HDF5 rebuilds a committed datatype from it. */
static herr_t encode(pv_obj_t *o, void *buf, size_t *size)
{
    PyObject *spec = pv_call(H5E_DATATYPE, "datatype_spec", "(O)", o->py);
    hid_t     t = spec ? pv_type_from_py(spec) : H5I_INVALID_HID;
    herr_t    ret = -1;

    if (t >= 0) {
        ret = H5Tencode(t, buf, size);
        H5Tclose(t);
        if (ret < 0)
            pv_error(H5E_DATATYPE, H5E_CANTENCODE, "cannot encode the datatype");
    }
    else if (spec)
        pv_error_from_python(H5E_DATATYPE, "datatype_spec");
    Py_XDECREF(spec);
    return ret;
}

herr_t pv_datatype_get(void *obj, H5VL_datatype_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r;
    herr_t    ret = -1;
    size_t    size;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_DATATYPE_GET_BINARY_SIZE: /* HDF5 rebuilding the type (H5Topen2, ...) */
            ret = encode(o, NULL, args->args.get_binary_size.size);
            break;
        case H5VL_DATATYPE_GET_BINARY:
            size = args->args.get_binary.buf_size;
            ret = encode(o, args->args.get_binary.buf, &size);
            break;
        case H5VL_DATATYPE_GET_TCPL: /* H5Tget_create_plist */
            if ((r = pv_call(H5E_DATATYPE, "datatype_tcpl", "(O)", o->py))) {
                args->args.get_tcpl.tcpl_id = pv_plist_from_py(r, H5P_DATATYPE_CREATE);
                ret = args->args.get_tcpl.tcpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_DATATYPE, "datatype_tcpl");
                Py_DECREF(r);
            }
            break;
        default:
            pv_error(H5E_DATATYPE, H5E_UNSUPPORTED, "datatype get operation %d is not supported", (int)args->op_type);
    }
    PV_LEAVE();
    return ret;
}

herr_t pv_datatype_specific(void *obj, H5VL_datatype_specific_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    herr_t    ret;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    ret = pv_call_void(H5E_DATATYPE, args->op_type == H5VL_DATATYPE_FLUSH ? "object_flush" : "object_refresh", "(O)",
                       o->py);
    PV_LEAVE();
    return ret;
}

herr_t pv_datatype_close(void *obj, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return pv_close_handle(obj, H5E_DATATYPE, "object_close");
}
