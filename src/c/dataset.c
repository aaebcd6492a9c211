/*
 * The H5D callbacks.
 *
 * Reads and writes are normalized here so a connector only ever sees dense
 * data in the dataset's own dtype plus the file-side selection: the memory
 * side (any selection, any compatible type) is gathered, scattered and
 * converted with HDF5's own H5Dgather/H5Dscatter/H5Tconvert.  When the memory
 * type equals the file type and the memory selection covers the buffer in
 * order, the connector gets a view of the caller's buffer, with no copy.
 */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

void *pv_dataset_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t lcpl_id, hid_t type_id,
                        hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj, *res = NULL;
    unsigned  intermediate = 0;
    PyObject *spec, *extent;
    (void)loc, (void)dapl_id, (void)dxpl_id, (void)req;

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
        res = pv_obj_new(pv_call(H5E_DATASET, "dataset_create", "(ONNNNO)", o->py, pv_str_or_none(name), spec,
                                 extent, pv_dcpl_to_py(dcpl_id, type_id), intermediate ? Py_True : Py_False),
                         H5I_DATASET);
    PV_LEAVE();
    return res;
}

void *pv_dataset_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t dapl_id, hid_t dxpl_id,
                      void **req)
{
    pv_obj_t *o = obj, *res;
    (void)loc, (void)dapl_id, (void)dxpl_id, (void)req;

    PV_ENTER(NULL);
    res = pv_obj_new(pv_call(H5E_DATASET, "dataset_open", "(ON)", o->py, pv_str_or_none(name)), H5I_DATASET);
    PV_LEAVE();
    return res;
}

static hid_t dataset_type(pv_obj_t *d)
{
    PyObject *spec = pv_call(H5E_DATASET, "dataset_type", "(O)", d->py);
    hid_t     t = spec ? pv_type_from_py(spec) : H5I_INVALID_HID;

    if (spec && t < 0)
        pv_error_from_python(H5E_DATATYPE, "dataset_type");
    Py_XDECREF(spec);
    return t;
}

static hid_t dataset_space(pv_obj_t *d)
{
    PyObject *extent = pv_call(H5E_DATASET, "dataset_extent", "(O)", d->py);
    hid_t     s = extent ? pv_space_from_py(extent) : H5I_INVALID_HID;

    if (extent && s < 0)
        pv_error_from_python(H5E_DATASPACE, "dataset_extent");
    Py_XDECREF(extent);
    return s;
}

/* Does the memory selection cover the buffer densely and in order? */
static int dense_selection(hid_t space)
{
    H5S_sel_type t = H5Sget_select_type(space);

    if (t == H5S_SEL_ALL)
        return 1;
    return t == H5S_SEL_HYPERSLABS && H5Sget_select_npoints(space) == H5Sget_simple_extent_npoints(space);
}

typedef struct {
    const void *buf;
    size_t      size;
} scatter_src_t;

static herr_t scatter_source(const void **src, size_t *used, void *udata)
{
    scatter_src_t *s = udata;

    *src = s->buf;
    *used = s->size;
    return 0;
}

/* The buffer view handed to Python must be gone when the call returns: HDF5
 * owns that memory.  A connector that kept a reference gets a clear error. */
static int release_view(PyObject *view, const char *what)
{
    /* numpy's arrays hold memoryviews derived from ours, which register on
     * the same managed buffer: more than our own export means a kept array. */
    int       kept = Py_REFCNT(view) > 1 || ((PyMemoryViewObject *)view)->mbuf->exports > 1;
    PyObject *r = PyObject_CallMethod(view, "release", NULL);

    Py_XDECREF(r);
    PyErr_Clear();
    if (!r || kept) {
        pv_error(H5E_DATASET, H5E_CALLBACK,
                 "the connector kept a reference to HDF5's buffer after %s returned; copy the data it keeps "
                 "(numpy.array(data)) instead of keeping views of it",
                 what);
        return -1;
    }
    return 0;
}

typedef struct {
    hid_t  ftype, fspace; /* the dataset's */
    hid_t  fsel, msel;    /* effective selections, borrowed */
    size_t n, fsize, msize;
    int    same_type, dense;
} io_plan_t;

static int plan_io(pv_obj_t *d, hid_t mem_type, hid_t mem_space, hid_t file_space, io_plan_t *p)
{
    hssize_t nf, nm;

    memset(p, 0, sizeof *p);
    p->ftype = p->fspace = H5I_INVALID_HID;
    if ((p->ftype = dataset_type(d)) < 0 || (p->fspace = dataset_space(d)) < 0)
        return -1;
    p->fsel = file_space == H5S_ALL ? p->fspace : file_space;
    p->msel = mem_space == H5S_ALL ? p->fsel : mem_space;
    nf = H5Sget_select_npoints(p->fsel);
    nm = H5Sget_select_npoints(p->msel);
    if (nf < 0 || nm < 0 || nf != nm) {
        pv_error(H5E_DATASPACE, H5E_BADSELECT,
                 "memory selection has %lld elements, file selection %lld", (long long)nm, (long long)nf);
        return -1;
    }
    p->n = (size_t)nf;
    p->fsize = H5Tget_size(p->ftype);
    p->msize = H5Tget_size(mem_type);
    p->same_type = H5Tequal(p->ftype, mem_type) > 0;
    p->dense = dense_selection(p->msel);
    return 0;
}

static void plan_close(io_plan_t *p)
{
    if (p->ftype >= 0)
        H5Tclose(p->ftype);
    if (p->fspace >= 0)
        H5Sclose(p->fspace);
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

static herr_t read_one(pv_obj_t *d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void *buf)
{
    io_plan_t p;
    void     *tmp = NULL, *bkg = NULL, *target;
    PyObject *sel = NULL, *view = NULL, *r = NULL;
    herr_t    ret = -1;

    if (plan_io(d, mem_type, mem_space, file_space, &p) < 0)
        goto done;
    if (p.n == 0) {
        ret = 0;
        goto done;
    }
    if (p.same_type && p.dense)
        target = buf;
    else if (!(target = tmp = malloc(p.n * max_size(p.fsize, p.msize)))) {
        pv_error(H5E_DATASET, H5E_CANTALLOC, "cannot allocate %zu bytes", p.n * max_size(p.fsize, p.msize));
        goto done;
    }
    if (!(sel = pv_selection_to_py(p.fsel))
        || !(view = PyMemoryView_FromMemory(target, (Py_ssize_t)(p.n * p.fsize), PyBUF_WRITE))) {
        pv_error_from_python(H5E_DATASET, "dataset_read");
        goto done;
    }
    r = pv_call(H5E_DATASET, "dataset_read", "(OOO)", d->py, sel, view);
    if (release_view(view, "read") < 0 || !r)
        goto done;
    if (tmp) {
        if (!p.same_type) {
            /* Compound subsets keep the fields the file lacks from the caller's buffer. */
            if (H5Tget_class(mem_type) == H5T_COMPOUND) {
                if (!(bkg = calloc(p.n, p.msize))
                    || H5Dgather(p.msel, buf, mem_type, p.n * p.msize, bkg, NULL, NULL) < 0)
                    goto convert_failed;
            }
            if (H5Tconvert(p.ftype, mem_type, p.n, tmp, bkg, dxpl) < 0)
                goto convert_failed;
        }
        if (p.dense)
            memcpy(buf, tmp, p.n * p.msize);
        else {
            scatter_src_t src = {tmp, p.n * p.msize};
            if (H5Dscatter(scatter_source, &src, mem_type, p.msel, buf) < 0) {
                pv_error(H5E_DATASET, H5E_READERROR, "cannot scatter data into the memory selection");
                goto done;
            }
        }
    }
    ret = 0;
    goto done;
convert_failed:
    pv_error(H5E_DATATYPE, H5E_CANTCONVERT, "cannot convert the dataset's type to the memory type");
done:
    Py_XDECREF(r);
    Py_XDECREF(view);
    Py_XDECREF(sel);
    free(tmp);
    free(bkg);
    plan_close(&p);
    return ret;
}

static herr_t write_one(pv_obj_t *d, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, const void *buf)
{
    io_plan_t   p;
    void       *tmp = NULL, *bkg = NULL;
    const void *source;
    PyObject   *sel = NULL, *view = NULL, *r = NULL;
    herr_t      ret = -1;

    if (plan_io(d, mem_type, mem_space, file_space, &p) < 0)
        goto done;
    if (p.n == 0) {
        ret = 0;
        goto done;
    }
    if (p.same_type && p.dense)
        source = buf;
    else {
        if (!(source = tmp = malloc(p.n * max_size(p.fsize, p.msize)))) {
            pv_error(H5E_DATASET, H5E_CANTALLOC, "cannot allocate %zu bytes", p.n * max_size(p.fsize, p.msize));
            goto done;
        }
        if (p.dense)
            memcpy(tmp, buf, p.n * p.msize);
        else if (H5Dgather(p.msel, buf, mem_type, p.n * p.msize, tmp, NULL, NULL) < 0) {
            pv_error(H5E_DATASET, H5E_WRITEERROR, "cannot gather data from the memory selection");
            goto done;
        }
        if (!p.same_type) {
            if ((H5Tget_class(p.ftype) == H5T_COMPOUND && !(bkg = calloc(p.n, p.fsize)))
                || H5Tconvert(mem_type, p.ftype, p.n, tmp, bkg, dxpl) < 0) {
                pv_error(H5E_DATATYPE, H5E_CANTCONVERT, "cannot convert the memory type to the dataset's type");
                goto done;
            }
        }
    }
    if (!(sel = pv_selection_to_py(p.fsel))
        || !(view = PyMemoryView_FromMemory((char *)source, (Py_ssize_t)(p.n * p.fsize), PyBUF_READ))) {
        pv_error_from_python(H5E_DATASET, "dataset_write");
        goto done;
    }
    r = pv_call(H5E_DATASET, "dataset_write", "(OOO)", d->py, sel, view);
    if (release_view(view, "write") < 0 || !r)
        goto done;
    ret = 0;
done:
    Py_XDECREF(r);
    Py_XDECREF(view);
    Py_XDECREF(sel);
    free(tmp);
    free(bkg);
    plan_close(&p);
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
        ret = read_one(dset[i], mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i]);
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
        ret = write_one(dset[i], mem_type_id[i], mem_space_id[i], file_space_id[i], dxpl_id, buf[i]);
    PV_LEAVE();
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
        case H5VL_DATASET_GET_SPACE: /* H5Dget_space */
            ret = (args->args.get_space.space_id = dataset_space(d)) < 0 ? -1 : 0;
            break;
        case H5VL_DATASET_GET_TYPE: /* H5Dget_type */
            ret = (args->args.get_type.type_id = dataset_type(d)) < 0 ? -1 : 0;
            break;
        case H5VL_DATASET_GET_DCPL: /* H5Dget_create_plist: as created */
            if ((r = pv_call(H5E_DATASET, "dataset_dcpl", "(O)", d->py))) {
                args->args.get_dcpl.dcpl_id = pv_plist_from_py(r, H5P_DATASET_CREATE);
                ret = args->args.get_dcpl.dcpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_DATASET, "dataset_dcpl");
            }
            break;
        case H5VL_DATASET_GET_DAPL: /* H5Dget_access_plist */
            ret = (args->args.get_dapl.dapl_id = H5Pcreate(H5P_DATASET_ACCESS)) < 0 ? -1 : 0;
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
            hid_t space = dataset_space(d);
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
    pv_obj_t *d = obj;
    herr_t    ret;
    (void)dxpl_id, (void)req;

    PV_CLOSE_AFTER_SHUTDOWN(obj);

    PV_ENTER(-1);
    ret = pv_call_void(H5E_DATASET, "object_close", "(O)", d->py);
    pv_obj_free(d);
    PV_LEAVE();
    return ret;
}
