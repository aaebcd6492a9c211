/*
 * What only HDF5's native library implements, applied to the bridge's
 * buffers exactly as natively: data transforms (H5Pset_data_transform) and
 * lossy filters (scale-offset).  HDF5 exports no function that runs either
 * on a buffer, so the bridge writes the buffer into a scratch dataset of a
 * native in-memory file (core driver, no backing store, made and closed
 * within the call) and reads it back: HDF5's own parser and filter code do
 * the work, with HDF5's own errors for what they refuse.
 */
#include "bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Elements per scratch dataset: a large transfer goes through in blocks
 * rather than a second copy of all of it. */
#define BLOCK_ELEMENTS ((hsize_t)1 << 20)

static hid_t scratch_file(void)
{
    static unsigned long serial;
    char  name[64];
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), native = H5VLget_connector_id_by_name("native"), f = -1;

    snprintf(name, sizeof name, "h5pyvol-scratch-%ld-%lu", (long)getpid(), ++serial);
    if (fapl >= 0 && native >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 && H5Pset_vol(fapl, native, NULL) >= 0)
        f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (native >= 0)
        H5VLclose(native);
    if (fapl >= 0)
        H5Pclose(fapl);
    return f;
}

/* A dataset "x" of `type` in a scratch file: what both round trips write
 * into and read back from. */
typedef struct {
    hid_t file, space, dset;
} scratch_t;

static void scratch_close(scratch_t *s)
{
    if (s->dset >= 0)
        H5Dclose(s->dset);
    if (s->space >= 0)
        H5Sclose(s->space);
    if (s->file >= 0)
        H5Fclose(s->file);
}

static int scratch_open(scratch_t *s, hid_t type, int rank, const hsize_t *dims, const hsize_t *maxdims, hid_t dcpl)
{
    s->space = s->dset = -1;
    if ((s->file = scratch_file()) < 0 || (s->space = H5Screate_simple(rank, dims, maxdims)) < 0
        || (s->dset = H5Dcreate2(s->file, "x", type, s->space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
        scratch_close(s);
        return -1;
    }
    return 0;
}

int pv_has_transform(hid_t dxpl)
{
    ssize_t len;

    if (dxpl == H5P_DEFAULT || dxpl == H5P_DATASET_XFER_DEFAULT || dxpl < 0)
        return 0;
    H5E_BEGIN_TRY { len = H5Pget_data_transform(dxpl, NULL, 0); } H5E_END_TRY
    if (len < 0) /* "data transform has not been set" */
        H5Eclear2(H5E_DEFAULT);
    return len > 0;
}

/* Writes n elements of `type` through `write_dxpl` and reads them back
 * through `read_dxpl`: one of them carries the transform. */
static int round_trip(hid_t type, void *buf, size_t n, hid_t write_dxpl, hid_t read_dxpl)
{
    scratch_t s;
    hsize_t   block = n < BLOCK_ELEMENTS ? n : BLOCK_ELEMENTS, done;
    size_t    size = H5Tget_size(type);
    int       ret = 0;

    if (scratch_open(&s, type, 1, &block, NULL, H5P_DEFAULT) < 0)
        return -1;
    for (done = 0; done < n && ret == 0; done += block) {
        hsize_t count = n - done < block ? n - done : block;
        char   *at = (char *)buf + done * size;
        hid_t   part = H5Screate_simple(1, &count, NULL), sel = H5Scopy(s.space);
        hsize_t start = 0;
        int     ok = part >= 0 && sel >= 0
                 && H5Sselect_hyperslab(sel, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0
                 && H5Dwrite(s.dset, type, part, sel, write_dxpl, at) >= 0
                 && H5Dread(s.dset, type, part, sel, read_dxpl, at) >= 0;
        if (part >= 0)
            H5Sclose(part);
        if (sel >= 0)
            H5Sclose(sel);
        ret = ok ? 0 : -1;
    }
    scratch_close(&s);
    return ret;
}

int pv_apply_transform(hid_t dxpl, hid_t mem_type, void *buf, size_t n)
{
    char expr[256] = "";

    if (!n)
        return 0;
    /* applied on the way in: the write carries the transform, the read not */
    if (round_trip(mem_type, buf, n, dxpl, H5P_DEFAULT) < 0) {
        H5Pget_data_transform(dxpl, expr, sizeof expr);
        pv_error(H5E_DATASET, H5E_CANTFILTER, "cannot apply the data transform \"%s\" to this memory type", expr);
        return -1;
    }
    return 0;
}

/* _dispatch.native_filter_round_trip(dcpl, type_spec, shape, data) -> bytes:
 * `data` (the elements of one chunk's box, C order, in the dataset's type)
 * as a native reader would get them back from a dataset created with that
 * creation list: lossy filters applied per chunk exactly as natively. */
static PyObject *filter_round_trip(PyObject *self, PyObject *args)
{
    PyObject  *dcpl_py, *spec, *shape_py, *result = NULL;
    Py_buffer  data;
    hid_t      dcpl = -1, type = -1;
    scratch_t  s = {-1, -1, -1};
    hsize_t    dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    Py_ssize_t rank, i;
    (void)self;

    if (!PyArg_ParseTuple(args, "OOOy*", &dcpl_py, &spec, &shape_py, &data))
        return NULL;
    rank = PySequence_Size(shape_py);
    for (i = 0; i < rank && i < H5S_MAX_RANK; i++) {
        PyObject *d = PySequence_GetItem(shape_py, i);
        dims[i] = d ? (hsize_t)PyLong_AsUnsignedLongLong(d) : 0;
        maxdims[i] = H5S_UNLIMITED; /* a chunk may be larger than its clipped box */
        Py_XDECREF(d);
    }
    if (PyErr_Occurred() || rank < 1 || rank > H5S_MAX_RANK)
        goto done;
    if ((dcpl = pv_plist_from_py(dcpl_py, H5P_DATASET_CREATE)) < 0 || (type = pv_type_from_py(spec)) < 0)
        goto failed;
    {
        size_t expected = H5Tget_size(type);
        for (i = 0; i < rank; i++)
            expected *= (size_t)dims[i];
        if ((size_t)data.len != expected) {
            PyErr_Format(PyExc_ValueError, "%zd bytes for a chunk of %zu", data.len, expected);
            goto done;
        }
    }
    if (scratch_open(&s, type, (int)rank, dims, maxdims, dcpl) < 0)
        goto failed;
    if (!(result = PyBytes_FromStringAndSize(NULL, data.len)))
        goto done;
    /* closed in between: the chunk cache would answer the read unfiltered */
    if (H5Dwrite(s.dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.buf) < 0 || H5Dclose(s.dset) < 0
        || (s.dset = H5Dopen2(s.file, "x", H5P_DEFAULT)) < 0
        || H5Dread(s.dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, PyBytes_AS_STRING(result)) < 0) {
        Py_CLEAR(result);
        goto failed;
    }
    goto done;
failed:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "HDF5 could not apply the dataset's filters to a chunk");
done:
    scratch_close(&s);
    if (type >= 0)
        H5Tclose(type);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef filter_round_trip_def = {"native_filter_round_trip", filter_round_trip, METH_VARARGS,
                                            "A chunk's elements as native HDF5 stores and returns them."};

int pv_native_install(PyObject *dispatch)
{
    PyObject *fn = PyCFunction_New(&filter_round_trip_def, NULL);
    int       ret = fn ? PyObject_SetAttrString(dispatch, "native_filter_round_trip", fn) : -1;

    Py_XDECREF(fn);
    return ret;
}
