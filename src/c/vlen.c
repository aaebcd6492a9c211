/*
 * Variable-length data (vlen strings, vlen sequences, and compounds or
 * arrays holding them) as Python values.
 *
 * Such elements hold pointers, so they cross as one Python value per element
 * instead of a buffer view: a fixed-size part is its bytes, a vlen string is
 * its bytes (None for a NULL string), a vlen sequence of fixed-size elements is the bytes of all its
 * elements, a vlen sequence of vlen elements is a list, a compound is a tuple
 * of its members, an array a list of its elements.  h5pyvol/types.py
 * (encode_element/decode_element) speaks the same format.  Memory handed to
 * the caller is malloc'd, as H5Treclaim and h5py expect.
 *
 * References (H5R_ref_t, H5T_STD_REF) also cross as values: in memory they
 * hold pointers and ids, so they are described by what they name --
 * ("object", file, path), ("region", file, path, H5Sencode bytes),
 * ("attr", file, path, attribute) or ("null",) -- and rebuilt with
 * H5Rcreate_* on the way back.
 */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

/* The caller's vlen allocator (H5Pset_vlen_mem_manager on the transfer
 * property list) while a read packs elements; malloc otherwise. */
static H5MM_allocate_t alloc_func;
static void           *alloc_info;

void pv_vlen_set_allocator(hid_t dxpl)
{
    H5MM_free_t free_func;
    void       *free_info;

    alloc_func = NULL;
    alloc_info = NULL;
    if (dxpl != H5P_DEFAULT && dxpl >= 0)
        H5Pget_vlen_mem_manager(dxpl, &alloc_func, &alloc_info, &free_func, &free_info);
}

static void *vlen_alloc(size_t size)
{
    return alloc_func ? alloc_func(size, alloc_info) : malloc(size);
}

int pv_has_vlen(hid_t t)
{
    H5T_class_t cls = H5Tget_class(t);
    int         res = 0, i, n;
    hid_t       sub;

    if (cls == H5T_VLEN || (cls == H5T_STRING && H5Tis_variable_str(t) > 0))
        return 1;
    if (cls == H5T_REFERENCE && H5Tequal(t, H5T_STD_REF) > 0)
        return 1;
    if (cls == H5T_ARRAY) {
        sub = H5Tget_super(t);
        res = pv_has_vlen(sub);
        H5Tclose(sub);
    }
    else if (cls == H5T_COMPOUND) {
        n = H5Tget_nmembers(t);
        for (i = 0; i < n && !res; i++) {
            sub = H5Tget_member_type(t, (unsigned)i);
            res = pv_has_vlen(sub);
            H5Tclose(sub);
        }
    }
    return res;
}

static size_t array_count(hid_t t)
{
    hsize_t dims[H5S_MAX_RANK];
    int     rank = H5Tget_array_ndims(t), i;
    size_t  n = 1;

    H5Tget_array_dims2(t, dims);
    for (i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

/* The file a reference points into and the object path, or -1. */
static PyObject *ref_names(const H5R_ref_t *ref)
{
    char    *file = NULL, *path = NULL;
    ssize_t  flen = H5Rget_file_name(ref, NULL, 0), plen = H5Rget_obj_name((H5R_ref_t *)ref, H5P_DEFAULT, NULL, 0);
    PyObject *res = NULL;

    if (flen < 0 || plen < 0) {
        PyErr_SetString(PyExc_ValueError, "cannot read the reference's file or object name");
        return NULL;
    }
    file = malloc((size_t)flen + 1);
    path = malloc((size_t)plen + 1);
    if (file && path && H5Rget_file_name(ref, file, (size_t)flen + 1) >= 0
        && H5Rget_obj_name((H5R_ref_t *)ref, H5P_DEFAULT, path, (size_t)plen + 1) >= 0)
        res = Py_BuildValue("(ss)", file, path);
    else
        PyErr_SetString(PyExc_ValueError, "cannot read the reference's file or object name");
    free(file);
    free(path);
    return res;
}

static PyObject *ref_unpack(const H5R_ref_t *ref)
{
    H5R_type_t type = H5Rget_type(ref);
    PyObject  *names, *res = NULL;

    if (type == H5R_BADTYPE)
        return Py_BuildValue("(s)", "null");
    if (!(names = ref_names(ref)))
        return NULL;
    if (type == H5R_OBJECT2)
        res = Py_BuildValue("(sOO)", "object", PyTuple_GET_ITEM(names, 0), PyTuple_GET_ITEM(names, 1));
    else if (type == H5R_ATTR) {
        ssize_t alen = H5Rget_attr_name(ref, NULL, 0);
        char   *attr = alen >= 0 ? malloc((size_t)alen + 1) : NULL;
        if (attr && H5Rget_attr_name(ref, attr, (size_t)alen + 1) >= 0)
            res = Py_BuildValue("(sOOs)", "attr", PyTuple_GET_ITEM(names, 0), PyTuple_GET_ITEM(names, 1), attr);
        free(attr);
    }
    else if (type == H5R_DATASET_REGION2) {
        hid_t  space = H5Ropen_region((H5R_ref_t *)ref, H5P_DEFAULT, H5P_DEFAULT);
        size_t size = 0;
        if (space >= 0 && H5Sencode2(space, NULL, &size, H5P_DEFAULT) >= 0) {
            PyObject *blob = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
            if (blob && H5Sencode2(space, PyBytes_AS_STRING(blob), &size, H5P_DEFAULT) >= 0)
                res = Py_BuildValue("(sOON)", "region", PyTuple_GET_ITEM(names, 0), PyTuple_GET_ITEM(names, 1), blob);
            else
                Py_XDECREF(blob);
        }
        if (space >= 0)
            H5Sclose(space);
    }
    if (!res && !PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "cannot describe a reference of type %d", (int)type);
    Py_DECREF(names);
    return res;
}

/* The file the references being read point into; set around a read. */
static PyObject *ref_file;

void pv_vlen_set_ref_file(PyObject *file)
{
    ref_file = file;
}

static int ref_pack(PyObject *o, H5R_ref_t *ref)
{
    const char *kind, *file, *path, *attr;
    char       *blob;
    Py_ssize_t  len;
    PyObject   *target;
    hid_t       fid, space;
    herr_t      status = -1;

    memset(ref, 0, sizeof *ref);
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) < 1 || !(kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(o, 0)))) {
        PyErr_Format(PyExc_TypeError, "bad reference value %R", o);
        return -1;
    }
    if (!strcmp(kind, "null"))
        return 0;
    if (!PyArg_ParseTuple(o, strcmp(kind, "attr") == 0 ? "sssz" : strcmp(kind, "region") == 0 ? "sssy#" : "sss",
                          &kind, &file, &path, strcmp(kind, "region") == 0 ? (void *)&blob : (void *)&attr, &len))
        return -1;
    /* a location id in the referenced file: Python opens it (ref_file's own, or another) */
    if (!(target = PyObject_CallMethod(pv_dispatch, "reference_file", "Os", ref_file ? ref_file : Py_None, file)))
        return -1;
    fid = pv_register(target, H5I_FILE);
    Py_DECREF(target);
    if (fid < 0) {
        PyErr_SetString(PyExc_ValueError, "cannot open the referenced file");
        return -1;
    }
    if (!strcmp(kind, "object"))
        status = H5Rcreate_object(fid, path, H5P_DEFAULT, ref);
    else if (!strcmp(kind, "attr"))
        status = H5Rcreate_attr(fid, path, attr, H5P_DEFAULT, ref);
    else if ((space = H5Sdecode(blob)) >= 0) {
        status = H5Rcreate_region(fid, path, space, H5P_DEFAULT, ref);
        H5Sclose(space);
    }
    H5Idec_ref(fid); /* the reference holds its own */
    if (status < 0) {
        PyErr_Format(PyExc_ValueError, "cannot rebuild a reference to %s in %s", path, file);
        return -1;
    }
    return 0;
}

PyObject *pv_vlen_unpack(hid_t t, const char *p)
{
    H5T_class_t cls = H5Tget_class(t);
    PyObject   *res = NULL;
    hid_t       sub;
    size_t      i, n, size;

    if (cls == H5T_REFERENCE && H5Tequal(t, H5T_STD_REF) > 0)
        return ref_unpack((const H5R_ref_t *)p);
    if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        const char *s = *(char *const *)p;
        if (!s) /* a NULL string is not an empty one */
            Py_RETURN_NONE;
        return PyBytes_FromString(s);
    }
    if (cls == H5T_VLEN) {
        const hvl_t *v = (const hvl_t *)p;
        sub = H5Tget_super(t);
        size = H5Tget_size(sub);
        if (!pv_has_vlen(sub))
            res = PyBytes_FromStringAndSize(v->p, (Py_ssize_t)(v->len * size));
        else if ((res = PyList_New((Py_ssize_t)v->len)))
            for (i = 0; i < v->len; i++) {
                PyObject *item = pv_vlen_unpack(sub, (const char *)v->p + i * size);
                if (!item) {
                    Py_CLEAR(res);
                    break;
                }
                PyList_SET_ITEM(res, (Py_ssize_t)i, item);
            }
        H5Tclose(sub);
        return res;
    }
    if (cls == H5T_COMPOUND && pv_has_vlen(t)) {
        n = (size_t)H5Tget_nmembers(t);
        if (!(res = PyTuple_New((Py_ssize_t)n)))
            return NULL;
        for (i = 0; i < n; i++) {
            PyObject *item;
            sub = H5Tget_member_type(t, (unsigned)i);
            item = pv_vlen_unpack(sub, p + H5Tget_member_offset(t, (unsigned)i));
            H5Tclose(sub);
            if (!item) {
                Py_DECREF(res);
                return NULL;
            }
            PyTuple_SET_ITEM(res, (Py_ssize_t)i, item);
        }
        return res;
    }
    if (cls == H5T_ARRAY && pv_has_vlen(t)) {
        sub = H5Tget_super(t);
        size = H5Tget_size(sub);
        n = array_count(t);
        if ((res = PyList_New((Py_ssize_t)n)))
            for (i = 0; i < n; i++) {
                PyObject *item = pv_vlen_unpack(sub, p + i * size);
                if (!item) {
                    Py_CLEAR(res);
                    break;
                }
                PyList_SET_ITEM(res, (Py_ssize_t)i, item);
            }
        H5Tclose(sub);
        return res;
    }
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)H5Tget_size(t));
}

int pv_vlen_pack(hid_t t, PyObject *o, char *p)
{
    H5T_class_t cls = H5Tget_class(t);
    char       *buf;
    Py_ssize_t  len, i, n;
    hid_t       sub;
    size_t      size;
    int         ret = 0;

    if (cls == H5T_REFERENCE && H5Tequal(t, H5T_STD_REF) > 0)
        return ref_pack(o, (H5R_ref_t *)p);
    if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        char *copy;
        if (o == Py_None) {
            *(char **)p = NULL;
            return 0;
        }
        if (PyBytes_AsStringAndSize(o, &buf, &len) < 0 || !(copy = vlen_alloc((size_t)len + 1)))
            return -1;
        memcpy(copy, buf, (size_t)len);
        copy[len] = '\0';
        *(char **)p = copy;
        return 0;
    }
    if (cls == H5T_VLEN) {
        hvl_t *v = (hvl_t *)p;
        sub = H5Tget_super(t);
        size = H5Tget_size(sub);
        v->len = 0;
        v->p = NULL;
        if (!pv_has_vlen(sub)) {
            if (PyBytes_AsStringAndSize(o, &buf, &len) < 0)
                ret = -1;
            else if (len) {
                if (!(v->p = vlen_alloc((size_t)len)))
                    ret = -1;
                else {
                    memcpy(v->p, buf, (size_t)len);
                    v->len = (size_t)len / size;
                }
            }
        }
        else if ((n = PySequence_Size(o)) < 0)
            ret = -1;
        else if (n) {
            if (!(v->p = vlen_alloc((size_t)n * size)))
                ret = -1;
            else
                memset(v->p, 0, (size_t)n * size);
            v->len = (size_t)n;
            for (i = 0; ret == 0 && i < n; i++) {
                PyObject *item = PySequence_GetItem(o, i);
                ret = item ? pv_vlen_pack(sub, item, (char *)v->p + (size_t)i * size) : -1;
                Py_XDECREF(item);
            }
        }
        H5Tclose(sub);
        return ret;
    }
    if (cls == H5T_COMPOUND && pv_has_vlen(t)) {
        n = H5Tget_nmembers(t);
        if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != n) {
            PyErr_Format(PyExc_TypeError, "expected a tuple of %zd compound members", n);
            return -1;
        }
        for (i = 0; ret == 0 && i < n; i++) {
            sub = H5Tget_member_type(t, (unsigned)i);
            ret = pv_vlen_pack(sub, PyTuple_GET_ITEM(o, i), p + H5Tget_member_offset(t, (unsigned)i));
            H5Tclose(sub);
        }
        return ret;
    }
    if (cls == H5T_ARRAY && pv_has_vlen(t)) {
        sub = H5Tget_super(t);
        size = H5Tget_size(sub);
        n = (Py_ssize_t)array_count(t);
        if (PySequence_Size(o) != n) {
            PyErr_Format(PyExc_TypeError, "expected %zd array elements", n);
            ret = -1;
        }
        for (i = 0; ret == 0 && i < n; i++) {
            PyObject *item = PySequence_GetItem(o, i);
            ret = item ? pv_vlen_pack(sub, item, p + (size_t)i * size) : -1;
            Py_XDECREF(item);
        }
        H5Tclose(sub);
        return ret;
    }
    if (PyBytes_AsStringAndSize(o, &buf, &len) < 0)
        return -1;
    size = H5Tget_size(t);
    memset(p, 0, size);
    memcpy(p, buf, (size_t)len < size ? (size_t)len : size);
    return 0;
}

/* Frees what pv_vlen_pack allocated in n elements of type t. */
void pv_vlen_reclaim(hid_t t, void *buf, size_t n)
{
    hsize_t dims[1] = {n};
    hid_t   space;

    if (!n)
        return;
    space = H5Screate_simple(1, dims, NULL);
    H5Treclaim(t, space, H5P_DEFAULT, buf);
    H5Sclose(space);
}
