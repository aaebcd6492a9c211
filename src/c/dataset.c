/* The H5D callbacks.  Element I/O itself is in io.c. */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

void *pv_dataset_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t lcpl_id, hid_t type_id,
                        hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj, *res = NULL;
    unsigned  intermediate = 0;
    PyObject *spec, *extent;
    (void)loc, (void)dxpl_id, (void)req;

    if (!pv_check_plist(dapl_id, H5P_DATASET_ACCESS, "dataset access")
        || !pv_check_plist(lcpl_id, H5P_LINK_CREATE, "link creation")) {
        pv_error_flush();
        return NULL;
    }
    if (lcpl_id != H5P_DEFAULT && lcpl_id != H5P_LINK_CREATE_DEFAULT)
        H5Pget_create_intermediate_group(lcpl_id, &intermediate);
    PV_ENTER(NULL);
    spec = pv_type_to_py(type_id);
    extent = spec ? pv_space_to_py(space_id) : NULL;
    if (!spec || !extent) {
        Py_XDECREF(spec);
        pv_error_from_python(H5E_DATASET, "dataset_create");
    }
    else
        res = pv_opened(pv_obj_new(pv_call(H5E_DATASET, "dataset_create", "(ONNNNONN)", o->py, pv_str_or_none(name), spec,
                                 extent, pv_dcpl_to_py(dcpl_id, type_id), intermediate ? Py_True : Py_False,
                                 pv_crt_order_to_py(dcpl_id), pv_named_type_of(type_id)), H5I_DATASET), o, name);
    if (res)
        res->apl = H5Pcopy(dapl_id == H5P_DEFAULT ? H5P_DATASET_ACCESS_DEFAULT : dapl_id);
    PV_LEAVE();
    return res;
}

void *pv_dataset_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t dapl_id, hid_t dxpl_id,
                      void **req)
{
    pv_obj_t *o = obj, *res;
    (void)loc, (void)dxpl_id, (void)req;

    if (!pv_check_plist(dapl_id, H5P_DATASET_ACCESS, "dataset access")) {
        pv_error_flush();
        return NULL;
    }
    PV_ENTER(NULL);
    res = pv_opened(pv_obj_new(pv_call(H5E_DATASET, "dataset_open", "(ON)", o->py, pv_str_or_none(name)), H5I_DATASET),
                    o, name);
    if (res)
        res->apl = H5Pcopy(dapl_id == H5P_DEFAULT ? H5P_DATASET_ACCESS_DEFAULT : dapl_id);
    PV_LEAVE();
    return res;
}

/* A virtual dataset is read here, through its mappings (virtual.c); the
 * connector only keeps its creation list. */
static int is_virtual(pv_obj_t *d)
{
    PyObject *r;

    if (d->virtual_layout < 0 && (r = pv_call(H5E_DATASET, "dataset_is_virtual", "(O)", d->py))) {
        d->virtual_layout = (signed char)PyObject_IsTrue(r);
        Py_DECREF(r);
    }
    return d->virtual_layout > 0;
}

/* Grows a virtual dataset's extent with its sources and, given a buffer,
 * reads the selection into it (virtual.c). */
static herr_t use_virtual(pv_obj_t *d, hid_t extent, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                          void *buf)
{
    PyObject   *r, *dcpl_py;
    const char *own_file;
    hid_t       dcpl = -1;
    herr_t      ret = -1;

    if (!(r = pv_call(H5E_DATASET, "dataset_virtual", "(O)", d->py)))
        return -1;
    if (!PyArg_ParseTuple(r, "Os", &dcpl_py, &own_file) || (dcpl = pv_plist_from_py(dcpl_py, H5P_DATASET_CREATE)) < 0)
        pv_error_from_python(H5E_DATASET, "dataset_virtual");
    else if (pv_virtual_grow(dcpl, own_file, d->apl, extent) >= 0)
        ret = buf ? pv_virtual_read(dcpl, own_file, d->apl, extent, mem_type, mem_space, file_space, dxpl, buf) : 0;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    Py_DECREF(r);
    return ret;
}

static herr_t read_virtual(pv_obj_t *d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void *buf)
{
    hid_t  extent = pv_io_space(&pv_dataset_io, d);
    herr_t ret = extent < 0 ? -1 : use_virtual(d, extent, mem_type, mem_space, file_space, dxpl, buf);

    if (extent >= 0)
        H5Sclose(extent);
    return ret;
}

/* H5Dread and H5Dread_multi: one connector call per dataset. */
herr_t pv_dataset_read(size_t count, void *dset[], hid_t mem_type_id[], hid_t mem_space_id[], hid_t file_space_id[],
                       hid_t dxpl_id, void *buf[], void **req)
{
    herr_t ret = 0;
    size_t i;
    (void)req;

    PV_ENTER(-1);
    for (i = 0; i < count && ret == 0; i++)
        ret = is_virtual(dset[i])
                  ? read_virtual(dset[i], mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i])
                  : pv_io_read(&pv_dataset_io, dset[i], mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id,
                               buf[i]);
    PV_LEAVE();
    return ret;
}

/* H5Dwrite and H5Dwrite_multi. */
herr_t pv_dataset_write(size_t count, void *dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                        hid_t file_space_id[], hid_t dxpl_id, const void *buf[], void **req)
{
    herr_t ret = 0;
    size_t i;
    (void)req;

    PV_ENTER(-1);
    for (i = 0; i < count && ret == 0; i++)
        ret = pv_io_write(&pv_dataset_io, dset[i], mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id,
                          buf[i]);
    PV_LEAVE();
    return ret;
}

/* Puts a variable-length fill value back into a decoded creation list
 * (see pv_dcpl_encode).  A list that says "default" was never given one:
 * setting one there would turn HDF5's default into a user-defined value. */
static herr_t restore_vlen_fill(pv_obj_t *d, hid_t dcpl)
{
    H5D_fill_value_t status = H5D_FILL_VALUE_UNDEFINED;
    PyObject        *fill;
    hid_t            type;
    char            *buf;
    herr_t           ret = 0;

    if (H5Pfill_value_defined(dcpl, &status) < 0)
        return -1;
    if (status == H5D_FILL_VALUE_DEFAULT)
        return 0;
    if (!(fill = pv_call(H5E_DATASET, "dataset_fill_element", "(O)", d->py)))
        return -1;
    if (fill != Py_None && (type = pv_io_type(&pv_dataset_io, d)) >= 0) {
        size_t size = H5Tget_size(type);
        if ((buf = calloc(1, size)) && pv_vlen_pack(type, fill, buf) == 0) {
            ret = H5Pset_fill_value(dcpl, type, buf);
            pv_vlen_reclaim(type, buf, 1);
        }
        else {
            pv_error_from_python(H5E_DATASET, "dataset_fill_element");
            ret = -1;
        }
        free(buf);
        H5Tclose(type);
    }
    Py_DECREF(fill);
    return ret;
}

herr_t pv_dataset_get(void *obj, H5VL_dataset_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *d = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_DATASET_GET_SPACE: /* H5Dget_space; a virtual dataset's grows with its sources */
            ret = (args->args.get_space.space_id = pv_io_space(&pv_dataset_io, d)) < 0 ? -1 : 0;
            if (ret == 0 && is_virtual(d) && use_virtual(d, args->args.get_space.space_id, -1, -1, -1, -1, NULL) < 0) {
                H5Sclose(args->args.get_space.space_id);
                ret = -1;
            }
            break;
        case H5VL_DATASET_GET_TYPE: /* H5Dget_type: committed if created with one */
            if ((r = pv_call(H5E_DATASET, "dataset_named_type", "(O)", d->py))) {
                if (r == Py_None)
                    args->args.get_type.type_id = pv_io_type(&pv_dataset_io, d);
                else
                    args->args.get_type.type_id = pv_register(r, H5I_DATATYPE);
                ret = args->args.get_type.type_id < 0 ? -1 : 0;
            }
            break;
        case H5VL_DATASET_GET_DCPL: /* H5Dget_create_plist: as created */
            if ((r = pv_call(H5E_DATASET, "dataset_dcpl", "(O)", d->py))) {
                args->args.get_dcpl.dcpl_id = pv_plist_from_py(r, H5P_DATASET_CREATE);
                ret = args->args.get_dcpl.dcpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_DATASET, "dataset_dcpl");
                else
                    ret = restore_vlen_fill(d, args->args.get_dcpl.dcpl_id);
            }
            break;
        case H5VL_DATASET_GET_DAPL: /* H5Dget_access_plist: as opened */
            args->args.get_dapl.dapl_id = H5Pcopy(d->apl >= 0 ? d->apl : H5P_DATASET_ACCESS_DEFAULT);
            ret = args->args.get_dapl.dapl_id < 0 ? -1 : 0;
            break;
        case H5VL_DATASET_GET_STORAGE_SIZE: /* H5Dget_storage_size */
            if ((r = pv_call(H5E_DATASET, "dataset_storage_size", "(O)", d->py))) {
                *args->args.get_storage_size.storage_size = (hsize_t)PyLong_AsUnsignedLongLong(r);
                ret = 0;
            }
            break;
        case H5VL_DATASET_GET_SPACE_STATUS: /* H5Dget_space_status */
            if ((r = pv_call(H5E_DATASET, "dataset_storage_size", "(O)", d->py))) {
                *args->args.get_space_status.status =
                    PyLong_AsUnsignedLongLong(r) ? H5D_SPACE_STATUS_ALLOCATED : H5D_SPACE_STATUS_NOT_ALLOCATED;
                ret = 0;
            }
            break;
        default:
            pv_error(H5E_DATASET, H5E_UNSUPPORTED, "dataset get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

herr_t pv_dataset_specific(void *obj, H5VL_dataset_specific_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *d = obj;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_DATASET_SET_EXTENT: { /* H5Dset_extent */
            hid_t space = pv_io_space(&pv_dataset_io, d);
            int   rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1, i;
            PyObject *dims = rank >= 0 ? PyTuple_New(rank) : NULL;
            for (i = 0; dims && i < rank; i++)
                PyTuple_SET_ITEM(dims, i, PyLong_FromUnsignedLongLong(args->args.set_extent.size[i]));
            if (space >= 0)
                H5Sclose(space);
            if (dims)
                ret = pv_call_void(H5E_DATASET, "dataset_set_extent", "(ON)", d->py, dims);
            break;
        }
        case H5VL_DATASET_FLUSH: /* H5Dflush */
            ret = pv_call_void(H5E_DATASET, "object_flush", "(O)", d->py);
            break;
        case H5VL_DATASET_REFRESH: /* H5Drefresh */
            ret = pv_call_void(H5E_DATASET, "object_refresh", "(O)", d->py);
            break;
        default:
            pv_error(H5E_DATASET, H5E_UNSUPPORTED, "dataset operation %d is not supported", (int)args->op_type);
    }
    PV_LEAVE();
    return ret;
}

herr_t pv_dataset_close(void *obj, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return pv_close_handle(obj, H5E_DATASET, "object_close");
}
