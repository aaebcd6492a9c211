/*
 * HDF5 values <-> plain Python values.
 *
 * Datatypes travel as "type spec" tuples, the one format both sides know
 * (h5pyvol/types.py turns them into numpy dtypes and back):
 *   ("int", size, signed, order[, precision, offset])      ("float", size, order[, layout])
 *     layout, only for a float that is not the standard one of its size:
 *     (precision, offset, spos, epos, esize, mpos, msize, ebias, norm, inpad)
 *   ("bitfield", size, order)         ("opaque", size, tag)
 *   ("string", size, cset, pad)       size -1: variable length
 *   ("compound", size, ((name, offset, spec), ...))
 *   ("enum", base_spec, ((name, value), ...))
 *   ("array", dims, base_spec)        ("vlen", base_spec)
 *   ("reference", "object" | "region" | "ref")
 *   ("time", size, order)
 *   ("complex", float_spec)           HDF5 2.0's H5T_COMPLEX
 * order is "<" or ">"; cset "ascii" or "utf-8"; pad "nullterm", "nullpad" or
 * "spacepad".
 */
#include "bridge.h"

static PyObject *float_layout(hid_t t);

#include <stdlib.h>
#include <string.h>

PyObject *pv_str_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

static const char *order_str(hid_t t)
{
    return H5Tget_order(t) == H5T_ORDER_BE ? ">" : "<";
}

PyObject *pv_type_to_py(hid_t t)
{
    H5T_class_t cls = H5Tget_class(t);
    size_t      size = H5Tget_size(t);
    PyObject   *res = NULL;

    switch (cls) {
        case H5T_INTEGER: {
            size_t precision = H5Tget_precision(t);
            int    offset = H5Tget_offset(t);
            PyObject *sign = H5Tget_sign(t) == H5T_SGN_NONE ? Py_False : Py_True;
            if (precision == size * 8 && offset == 0)
                return Py_BuildValue("(snOs)", "int", (Py_ssize_t)size, sign, order_str(t));
            /* fewer significant bits (H5Tset_precision, the N-bit filter's types) */
            return Py_BuildValue("(snOsni)", "int", (Py_ssize_t)size, sign, order_str(t), (Py_ssize_t)precision,
                                 offset);
        }
        case H5T_FLOAT: {
            PyObject *layout = float_layout(t);
            if (!layout)
                return NULL;
            if (layout == Py_None) {
                Py_DECREF(layout);
                return Py_BuildValue("(sns)", "float", (Py_ssize_t)size, order_str(t));
            }
            return Py_BuildValue("(snsN)", "float", (Py_ssize_t)size, order_str(t), layout);
        }
        case H5T_BITFIELD:
            return Py_BuildValue("(sns)", "bitfield", (Py_ssize_t)size, order_str(t));
        case H5T_TIME:
            return Py_BuildValue("(sns)", "time", (Py_ssize_t)size, order_str(t));
        case H5T_OPAQUE: {
            char *tag = H5Tget_tag(t);
            res = Py_BuildValue("(sns)", "opaque", (Py_ssize_t)size, tag ? tag : "");
            H5free_memory(tag);
            return res;
        }
        case H5T_STRING: {
            H5T_str_t pad = H5Tget_strpad(t);
            htri_t    vlen = H5Tis_variable_str(t);
            return Py_BuildValue("(snss)", "string", vlen > 0 ? (Py_ssize_t)-1 : (Py_ssize_t)size,
                                 H5Tget_cset(t) == H5T_CSET_UTF8 ? "utf-8" : "ascii",
                                 pad == H5T_STR_NULLTERM ? "nullterm"
                                 : pad == H5T_STR_NULLPAD ? "nullpad" : "spacepad");
        }
        case H5T_COMPOUND: {
            int       n = H5Tget_nmembers(t), i;
            PyObject *members = PyTuple_New(n > 0 ? n : 0);
            for (i = 0; members && i < n; i++) {
                char    *name = H5Tget_member_name(t, (unsigned)i);
                hid_t    mt = H5Tget_member_type(t, (unsigned)i);
                PyObject *spec = pv_type_to_py(mt);
                PyObject *m = spec ? Py_BuildValue("(NnN)", pv_str_or_none(name),
                                                   (Py_ssize_t)H5Tget_member_offset(t, (unsigned)i), spec)
                                   : NULL;
                H5free_memory(name);
                H5Tclose(mt);
                if (!m) {
                    Py_CLEAR(members);
                    break;
                }
                PyTuple_SET_ITEM(members, i, m);
            }
            return members ? Py_BuildValue("(snN)", "compound", (Py_ssize_t)size, members) : NULL;
        }
        case H5T_ENUM: {
            int       n = H5Tget_nmembers(t), i;
            hid_t     base = H5Tget_super(t);
            PyObject *spec = pv_type_to_py(base), *members = PyTuple_New(n > 0 ? n : 0);
            long long value;
            for (i = 0; spec && members && i < n; i++) {
                char *name = H5Tget_member_name(t, (unsigned)i);
                value = 0;
                H5Tget_member_value(t, (unsigned)i, &value);
                /* the value is in the base type's own size and order */
                H5Tconvert(base, H5T_NATIVE_LLONG, 1, &value, NULL, H5P_DEFAULT);
                PyTuple_SET_ITEM(members, i, Py_BuildValue("(NL)", pv_str_or_none(name), value));
                H5free_memory(name);
            }
            H5Tclose(base);
            if (!spec || !members) {
                Py_XDECREF(spec);
                Py_XDECREF(members);
                return NULL;
            }
            return Py_BuildValue("(sNN)", "enum", spec, members);
        }
        case H5T_ARRAY: {
            int      rank = H5Tget_array_ndims(t), i;
            hsize_t  dims[H5S_MAX_RANK];
            hid_t    base = H5Tget_super(t);
            PyObject *shape = PyTuple_New(rank > 0 ? rank : 0);
            H5Tget_array_dims2(t, dims);
            for (i = 0; i < rank; i++)
                PyTuple_SET_ITEM(shape, i, PyLong_FromUnsignedLongLong(dims[i]));
            res = Py_BuildValue("(sNN)", "array", shape, pv_type_to_py(base));
            H5Tclose(base);
            return res;
        }
        case H5T_VLEN: {
            hid_t base = H5Tget_super(t);
            res = Py_BuildValue("(sN)", "vlen", pv_type_to_py(base));
            H5Tclose(base);
            return res;
        }
#if H5_VERSION_GE(2, 0, 0)
        case H5T_COMPLEX: { /* HDF5 2.0's complex numbers: two of a float type */
            hid_t base = H5Tget_super(t);
            res = Py_BuildValue("(sN)", "complex", pv_type_to_py(base));
            H5Tclose(base);
            return res;
        }
#endif
        case H5T_REFERENCE:
            if (H5Tequal(t, H5T_STD_REF_OBJ) > 0)
                return Py_BuildValue("(ss)", "reference", "object");
            if (H5Tequal(t, H5T_STD_REF_DSETREG) > 0)
                return Py_BuildValue("(ss)", "reference", "region");
            return Py_BuildValue("(ss)", "reference", "ref");
        default:
            PyErr_Format(PyExc_NotImplementedError, "HDF5 datatype class %d", (int)cls);
            return NULL;
    }
}

static hid_t ordered(hid_t le, hid_t be, const char *order)
{
    return H5Tcopy(order && order[0] == '>' ? be : le);
}

static hid_t int_type(Py_ssize_t size, int is_signed, const char *order)
{
    switch (size) {
        case 1: return is_signed ? ordered(H5T_STD_I8LE, H5T_STD_I8BE, order) : ordered(H5T_STD_U8LE, H5T_STD_U8BE, order);
        case 2: return is_signed ? ordered(H5T_STD_I16LE, H5T_STD_I16BE, order) : ordered(H5T_STD_U16LE, H5T_STD_U16BE, order);
        case 4: return is_signed ? ordered(H5T_STD_I32LE, H5T_STD_I32BE, order) : ordered(H5T_STD_U32LE, H5T_STD_U32BE, order);
        case 8: return is_signed ? ordered(H5T_STD_I64LE, H5T_STD_I64BE, order) : ordered(H5T_STD_U64LE, H5T_STD_U64BE, order);
    }
    PyErr_Format(PyExc_ValueError, "no HDF5 integer of %zd bytes", size);
    return H5I_INVALID_HID;
}

/* The bit layout of a float type, or None when it is the standard IEEE
 * layout of its size (custom floats: H5Tset_fields, H5Tset_ebias, ...). */
static hid_t float_type(Py_ssize_t size, const char *order);

static PyObject *float_layout(hid_t t)
{
    size_t spos, epos, esize, mpos, msize, std_spos, std_epos, std_esize, std_mpos, std_msize;
    hid_t  standard;
    int    same;

    H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
    standard = float_type((Py_ssize_t)H5Tget_size(t), "<");
    if (standard < 0) {
        PyErr_Clear();
        same = 0;
    }
    else {
        H5Tget_fields(standard, &std_spos, &std_epos, &std_esize, &std_mpos, &std_msize);
        same = spos == std_spos && epos == std_epos && esize == std_esize && mpos == std_mpos && msize == std_msize
               && H5Tget_ebias(t) == H5Tget_ebias(standard) && H5Tget_precision(t) == H5Tget_precision(standard)
               && H5Tget_offset(t) == H5Tget_offset(standard) && H5Tget_norm(t) == H5Tget_norm(standard)
               && H5Tget_inpad(t) == H5Tget_inpad(standard);
        H5Tclose(standard);
    }
    if (same)
        Py_RETURN_NONE;
    return Py_BuildValue("(nnnnnnnnii)", (Py_ssize_t)H5Tget_precision(t), (Py_ssize_t)H5Tget_offset(t),
                         (Py_ssize_t)spos, (Py_ssize_t)epos, (Py_ssize_t)esize, (Py_ssize_t)mpos, (Py_ssize_t)msize,
                         (Py_ssize_t)H5Tget_ebias(t), (int)H5Tget_norm(t), (int)H5Tget_inpad(t));
}

/* A float with a custom bit layout, on the standard type of its size. */
static hid_t custom_float(Py_ssize_t size, const char *order, PyObject *layout)
{
    Py_ssize_t precision, offset, spos, epos, esize, mpos, msize, ebias;
    int        norm, inpad;
    hid_t      t;

    if (!PyArg_ParseTuple(layout, "nnnnnnnnii", &precision, &offset, &spos, &epos, &esize, &mpos, &msize, &ebias,
                          &norm, &inpad))
        return H5I_INVALID_HID;
    if ((t = float_type(size, order)) < 0)
        return t;
    /* widest precision first, so the fields fit while they change */
    if (H5Tset_offset(t, 0) < 0 || H5Tset_precision(t, (size_t)size * 8) < 0
        || H5Tset_fields(t, (size_t)spos, (size_t)epos, (size_t)esize, (size_t)mpos, (size_t)msize) < 0
        || H5Tset_precision(t, (size_t)precision) < 0 || H5Tset_offset(t, (size_t)offset) < 0
        || H5Tset_ebias(t, (size_t)ebias) < 0 || H5Tset_norm(t, (H5T_norm_t)norm) < 0
        || H5Tset_inpad(t, (H5T_pad_t)inpad) < 0) {
        H5Tclose(t);
        PyErr_Format(PyExc_ValueError, "cannot rebuild the float layout %R", layout);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t float_type(Py_ssize_t size, const char *order)
{
    hid_t t;
    switch (size) {
#ifdef H5T_IEEE_F16LE
        case 2: return ordered(H5T_IEEE_F16LE, H5T_IEEE_F16BE, order);
#endif
        case 4: return ordered(H5T_IEEE_F32LE, H5T_IEEE_F32BE, order);
        case 8: return ordered(H5T_IEEE_F64LE, H5T_IEEE_F64BE, order);
    }
    if ((size_t)size == H5Tget_size(H5T_NATIVE_LDOUBLE)) {
        t = H5Tcopy(H5T_NATIVE_LDOUBLE);
        return t;
    }
    PyErr_Format(PyExc_ValueError, "no HDF5 float of %zd bytes", size);
    return H5I_INVALID_HID;
}

#define SPEC_IS(s) (!strcmp(kind, s))

hid_t pv_type_from_py(PyObject *spec)
{
    const char *kind, *order = "<", *s1, *s2;
    Py_ssize_t  size;
    PyObject   *o1, *o2;
    hid_t       t = H5I_INVALID_HID, base;
    int         flag;

    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 1 || !(kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(spec, 0)))) {
        PyErr_Format(PyExc_TypeError, "bad type spec %R", spec);
        return H5I_INVALID_HID;
    }
    if (SPEC_IS("int")) {
        Py_ssize_t precision = 0;
        int        offset = 0;
        hid_t      t;
        if (!PyArg_ParseTuple(spec, "snps|ni", &kind, &size, &flag, &order, &precision, &offset))
            return H5I_INVALID_HID;
        t = int_type(size, flag, order);
        if (t >= 0 && precision > 0 && (H5Tset_offset(t, 0) < 0 || H5Tset_precision(t, (size_t)precision) < 0
                                        || H5Tset_offset(t, (size_t)offset) < 0)) {
            H5Tclose(t);
            PyErr_Format(PyExc_ValueError, "bad integer precision %zd / offset %d", precision, offset);
            return H5I_INVALID_HID;
        }
        return t;
    }
    if (SPEC_IS("float")) {
        PyObject *layout = NULL;
        if (!PyArg_ParseTuple(spec, "sns|O", &kind, &size, &order, &layout))
            return H5I_INVALID_HID;
        return layout ? custom_float(size, order, layout) : float_type(size, order);
    }
    if (SPEC_IS("bitfield") || SPEC_IS("time")) {
        if (!PyArg_ParseTuple(spec, "sns", &kind, &size, &order))
            return H5I_INVALID_HID;
        if (SPEC_IS("time"))
            t = H5Tcopy(order[0] == '>' ? H5T_UNIX_D64BE : H5T_UNIX_D64LE);
        else if (size == 1) t = ordered(H5T_STD_B8LE, H5T_STD_B8BE, order);
        else if (size == 2) t = ordered(H5T_STD_B16LE, H5T_STD_B16BE, order);
        else if (size == 4) t = ordered(H5T_STD_B32LE, H5T_STD_B32BE, order);
        else t = ordered(H5T_STD_B64LE, H5T_STD_B64BE, order);
        if (t >= 0 && H5Tget_size(t) != (size_t)size)
            H5Tset_size(t, (size_t)size);
        return t;
    }
    if (SPEC_IS("opaque")) {
        if (!PyArg_ParseTuple(spec, "sns", &kind, &size, &s1))
            return H5I_INVALID_HID;
        t = H5Tcreate(H5T_OPAQUE, (size_t)size);
        if (t >= 0 && s1[0])
            H5Tset_tag(t, s1);
        return t;
    }
    if (SPEC_IS("string")) {
        if (!PyArg_ParseTuple(spec, "snss", &kind, &size, &s1, &s2))
            return H5I_INVALID_HID;
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, size < 0 ? H5T_VARIABLE : (size_t)(size ? size : 1));
        H5Tset_cset(t, !strcmp(s1, "utf-8") ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        H5Tset_strpad(t, !strcmp(s2, "nullterm") ? H5T_STR_NULLTERM
                         : !strcmp(s2, "nullpad") ? H5T_STR_NULLPAD : H5T_STR_SPACEPAD);
        return t;
    }
    if (SPEC_IS("compound")) {
        Py_ssize_t i;
        if (!PyArg_ParseTuple(spec, "snO", &kind, &size, &o1) || !PyTuple_Check(o1))
            return H5I_INVALID_HID;
        t = H5Tcreate(H5T_COMPOUND, (size_t)size);
        for (i = 0; t >= 0 && i < PyTuple_GET_SIZE(o1); i++) {
            const char *name;
            Py_ssize_t  offset;
            PyObject   *mspec;
            hid_t       mt;
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(o1, i), "snO", &name, &offset, &mspec)
                || (mt = pv_type_from_py(mspec)) < 0) {
                H5Tclose(t);
                return H5I_INVALID_HID;
            }
            H5Tinsert(t, name, (size_t)offset, mt);
            H5Tclose(mt);
        }
        return t;
    }
    if (SPEC_IS("enum")) {
        Py_ssize_t i;
        if (!PyArg_ParseTuple(spec, "sOO", &kind, &o1, &o2) || !PyTuple_Check(o2))
            return H5I_INVALID_HID;
        if ((base = pv_type_from_py(o1)) < 0)
            return H5I_INVALID_HID;
        t = H5Tenum_create(base);
        for (i = 0; t >= 0 && i < PyTuple_GET_SIZE(o2); i++) {
            const char        *name;
            long long          value;
            unsigned long long buf = 0;
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(o2, i), "sL", &name, &value)) {
                H5Tclose(t);
                t = H5I_INVALID_HID;
                break;
            }
            memcpy(&buf, &value, sizeof value);
            H5Tconvert(H5T_NATIVE_LLONG, base, 1, &buf, NULL, H5P_DEFAULT);
            H5Tenum_insert(t, name, &buf);
        }
        H5Tclose(base);
        return t;
    }
    if (SPEC_IS("array")) {
        hsize_t    dims[H5S_MAX_RANK];
        Py_ssize_t i, rank;
        if (!PyArg_ParseTuple(spec, "sOO", &kind, &o1, &o2) || !PyTuple_Check(o1))
            return H5I_INVALID_HID;
        rank = PyTuple_GET_SIZE(o1);
        for (i = 0; i < rank && i < H5S_MAX_RANK; i++)
            dims[i] = (hsize_t)PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o1, i));
        if (PyErr_Occurred() || (base = pv_type_from_py(o2)) < 0)
            return H5I_INVALID_HID;
        t = H5Tarray_create2(base, (unsigned)rank, dims);
        H5Tclose(base);
        return t;
    }
    if (SPEC_IS("vlen")) {
        if (!PyArg_ParseTuple(spec, "sO", &kind, &o1) || (base = pv_type_from_py(o1)) < 0)
            return H5I_INVALID_HID;
        t = H5Tvlen_create(base);
        H5Tclose(base);
        return t;
    }
    if (SPEC_IS("complex")) {
#if H5_VERSION_GE(2, 0, 0)
        if (!PyArg_ParseTuple(spec, "sO", &kind, &o1) || (base = pv_type_from_py(o1)) < 0)
            return H5I_INVALID_HID;
        t = H5Tcomplex_create(base);
        H5Tclose(base);
        return t;
#else
        PyErr_SetString(PyExc_NotImplementedError,
                        "HDF5 complex types (H5T_COMPLEX) need HDF5 2.0; this plugin was built against " H5_VERS_INFO);
        return H5I_INVALID_HID;
#endif
    }
    if (SPEC_IS("reference")) {
        if (!PyArg_ParseTuple(spec, "ss", &kind, &s1))
            return H5I_INVALID_HID;
        return H5Tcopy(!strcmp(s1, "object") ? H5T_STD_REF_OBJ
                       : !strcmp(s1, "region") ? H5T_STD_REF_DSETREG : H5T_STD_REF);
    }
    PyErr_Format(PyExc_ValueError, "unknown type spec kind %R", PyTuple_GET_ITEM(spec, 0));
    return H5I_INVALID_HID;
}

static PyObject *dims_tuple(int rank, const hsize_t *dims, int unlimited_as_none)
{
    PyObject *tup = PyTuple_New(rank);
    int       i;
    for (i = 0; tup && i < rank; i++) {
        if (unlimited_as_none && dims[i] == H5S_UNLIMITED) {
            Py_INCREF(Py_None);
            PyTuple_SET_ITEM(tup, i, Py_None);
        }
        else
            PyTuple_SET_ITEM(tup, i, PyLong_FromUnsignedLongLong(dims[i]));
    }
    return tup;
}

/* ((shape), (maxshape)) with None for unlimited; () for scalar; None for null. */
PyObject *pv_space_to_py(hid_t space)
{
    hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    int     rank;

    if (H5Sget_simple_extent_type(space) == H5S_NULL)
        Py_RETURN_NONE;
    if ((rank = H5Sget_simple_extent_dims(space, dims, maxdims)) < 0) {
        PyErr_SetString(PyExc_ValueError, "invalid dataspace");
        return NULL;
    }
    return Py_BuildValue("(NN)", dims_tuple(rank, dims, 0), dims_tuple(rank, maxdims, 1));
}

hid_t pv_space_from_py(PyObject *extent)
{
    hsize_t    dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    PyObject  *shape, *maxshape;
    Py_ssize_t i, rank;

    if (extent == Py_None)
        return H5Screate(H5S_NULL);
    if (!PyArg_ParseTuple(extent, "OO", &shape, &maxshape) || !PyTuple_Check(shape)
        || !PyTuple_Check(maxshape) || PyTuple_GET_SIZE(maxshape) != PyTuple_GET_SIZE(shape)) {
        PyErr_Format(PyExc_TypeError, "expected (shape, maxshape) tuples, got %R", extent);
        return H5I_INVALID_HID;
    }
    rank = PyTuple_GET_SIZE(shape);
    if (rank == 0)
        return H5Screate(H5S_SCALAR);
    if (rank > H5S_MAX_RANK) {
        PyErr_SetString(PyExc_ValueError, "rank over 32");
        return H5I_INVALID_HID;
    }
    for (i = 0; i < rank; i++) {
        PyObject *m = PyTuple_GET_ITEM(maxshape, i);
        dims[i] = (hsize_t)PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(shape, i));
        maxdims[i] = m == Py_None ? H5S_UNLIMITED : (hsize_t)PyLong_AsUnsignedLongLong(m);
    }
    if (PyErr_Occurred())
        return H5I_INVALID_HID;
    return H5Screate_simple((int)rank, dims, maxdims);
}

static PyObject *coords_bytes(const hsize_t *buf, hssize_t n)
{
    return PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)(n * (hssize_t)sizeof(hsize_t)));
}

/* The selection of a dataspace:
 *   ("all", shape)  ("none", shape)
 *   ("hyperslab", shape, start, stride, count, block)   a regular hyperslab
 *   ("blocks", shape, nblocks, coords)    coords: uint64 bytes, per block start then end
 *   ("points", shape, npoints, coords)    coords: uint64 bytes, rank per point, in order */
/* The offset of space's selection (H5Soffset_simple; h5py broadcasts a
 * value that way), which HDF5's selection listings leave out and its bounds
 * include.  Returns 1 when it is not zero. */
static int selection_offset(hid_t space, int rank, hssize_t *offset)
{
    hsize_t  lo[H5S_MAX_RANK], hi[H5S_MAX_RANK], raw_lo[H5S_MAX_RANK], raw_hi[H5S_MAX_RANK];
    hssize_t none[H5S_MAX_RANK] = {0};
    hid_t    copy;
    int      i, moved = 0, ok;

    if (rank <= 0 || H5Sget_select_bounds(space, lo, hi) < 0 || (copy = H5Scopy(space)) < 0)
        return 0;
    ok = H5Soffset_simple(copy, none) >= 0 && H5Sget_select_bounds(copy, raw_lo, raw_hi) >= 0;
    H5Sclose(copy);
    for (i = 0; ok && i < rank; i++) {
        offset[i] = (hssize_t)lo[i] - (hssize_t)raw_lo[i];
        moved |= offset[i] != 0;
    }
    return ok && moved;
}

static void shift_coords(hsize_t *coords, size_t n, int rank, const hssize_t *offset)
{
    size_t i;

    for (i = 0; i < n; i++)
        coords[i] = (hsize_t)((hssize_t)coords[i] + offset[i % (size_t)rank]);
}

PyObject *pv_selection_to_py(hid_t space)
{
    hsize_t   dims[H5S_MAX_RANK];
    hssize_t  offset[H5S_MAX_RANK];
    int       rank = H5Sget_simple_extent_ndims(space);
    PyObject *shape, *res = NULL;
    int       moved;

    if (rank < 0)
        return PyErr_Format(PyExc_ValueError, "invalid dataspace");
    H5Sget_simple_extent_dims(space, dims, NULL);
    shape = dims_tuple(rank, dims, 0);
    moved = (H5Sget_select_type(space) == H5S_SEL_POINTS || H5Sget_select_type(space) == H5S_SEL_HYPERSLABS)
            && selection_offset(space, rank, offset);
    switch (H5Sget_select_type(space)) {
        case H5S_SEL_NONE:
            return Py_BuildValue("(sN)", "none", shape);
        case H5S_SEL_ALL:
            return Py_BuildValue("(sN)", "all", shape);
        case H5S_SEL_POINTS: {
            hssize_t n = H5Sget_select_elem_npoints(space);
            hsize_t *buf = malloc((size_t)(n * rank + 1) * sizeof(hsize_t));
            if (!buf)
                return PyErr_NoMemory();
            H5Sget_select_elem_pointlist(space, 0, (hsize_t)n, buf);
            if (moved)
                shift_coords(buf, (size_t)(n * rank), rank, offset);
            res = Py_BuildValue("(sNLN)", "points", shape, (long long)n, coords_bytes(buf, n * rank));
            free(buf);
            return res;
        }
        case H5S_SEL_HYPERSLABS: {
            if (H5Sis_regular_hyperslab(space) > 0) {
                hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
                H5Sget_regular_hyperslab(space, start, stride, count, block);
                if (moved)
                    shift_coords(start, (size_t)rank, rank, offset);
                return Py_BuildValue("(sNNNNN)", "hyperslab", shape, dims_tuple(rank, start, 0),
                                     dims_tuple(rank, stride, 0), dims_tuple(rank, count, 0),
                                     dims_tuple(rank, block, 0));
            }
            else {
                hssize_t n = H5Sget_select_hyper_nblocks(space);
                hsize_t *buf = malloc((size_t)(n * 2 * rank + 1) * sizeof(hsize_t));
                if (!buf)
                    return PyErr_NoMemory();
                H5Sget_select_hyper_blocklist(space, 0, (hsize_t)n, buf);
                if (moved)
                    shift_coords(buf, (size_t)(n * 2 * rank), rank, offset);
                res = Py_BuildValue("(sNLN)", "blocks", shape, (long long)n, coords_bytes(buf, n * 2 * rank));
                free(buf);
                return res;
            }
        }
        default:
            Py_DECREF(shape);
            return PyErr_Format(PyExc_ValueError, "invalid selection");
    }
}

PyObject *pv_plist_to_py(hid_t plist)
{
    size_t    size = 0;
    PyObject *res;

    if (H5Pencode2(plist, NULL, &size, H5P_DEFAULT) < 0)
        return PyErr_Format(PyExc_ValueError, "cannot encode property list");
    if (!(res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size)))
        return NULL;
    if (H5Pencode2(plist, PyBytes_AS_STRING(res), &size, H5P_DEFAULT) < 0) {
        Py_DECREF(res);
        return PyErr_Format(PyExc_ValueError, "cannot encode property list");
    }
    return res;
}

/* A property list from its H5Pencode2 bytes, or a default one for None. */
hid_t pv_plist_from_py(PyObject *blob, hid_t default_class)
{
    if (blob == Py_None)
        return H5Pcreate(default_class);
    if (!PyBytes_Check(blob)) {
        PyErr_Format(PyExc_TypeError, "expected encoded property list bytes, got %R", blob);
        return H5I_INVALID_HID;
    }
    return H5Pdecode(PyBytes_AS_STRING(blob));
}

H5I_type_t pv_kind_from_py(PyObject *name)
{
    const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (!s)
        return H5I_BADID;
    if (!strcmp(s, "group") || !strcmp(s, "file"))
        return H5I_GROUP;
    if (!strcmp(s, "dataset"))
        return H5I_DATASET;
    if (!strcmp(s, "datatype"))
        return H5I_DATATYPE;
    return H5I_BADID;
}

/* H5Pencode2 of a dataset creation list.  HDF5 encodes a fill value in the
 * type it was set with (h5py sets fixed-length string fills through a vlen
 * string type), and a vlen fill as its in-memory pointers, which dangle once
 * the caller frees the list.  So the encoded copy carries the fill value
 * converted to the dataset's own type, or, for a vlen dataset type, none
 * (GET_DCPL puts it back from the value the connector keeps). */
PyObject *pv_dcpl_encode(hid_t dcpl, hid_t type)
{
    H5D_fill_value_t status = H5D_FILL_VALUE_UNDEFINED;
    hid_t            safe;
    PyObject        *res;
    char            *buf = NULL;
    herr_t           set = -1;

    if (H5Pfill_value_defined(dcpl, &status) < 0 || status != H5D_FILL_VALUE_USER_DEFINED)
        return pv_plist_to_py(dcpl);
    if ((safe = H5Pcopy(dcpl)) < 0)
        return PyErr_Format(PyExc_ValueError, "cannot copy the dataset creation property list");
    if (pv_has_vlen(type))
        set = H5Pset_fill_value(safe, type, NULL);
    else if ((buf = calloc(1, H5Tget_size(type))) && H5Pget_fill_value(dcpl, type, buf) >= 0)
        set = H5Pset_fill_value(safe, type, buf);
    free(buf);
    res = set < 0 ? PyErr_Format(PyExc_ValueError, "cannot convert the dataset's fill value")
                  : pv_plist_to_py(safe);
    H5Pclose(safe);
    return res;
}

/* What a dataset creation property list says, as keyword arguments of
 * h5pyvol.DatasetCreation: layout, chunks, fillvalue (bytes in the dataset's
 * type, or None when undefined), filters and the whole list encoded. */
PyObject *pv_dcpl_to_py(hid_t dcpl, hid_t type)
{
    H5D_layout_t      layout = H5Pget_layout(dcpl);
    H5D_fill_value_t  fill_status = H5D_FILL_VALUE_UNDEFINED;
    PyObject         *chunks = Py_None, *fill = Py_None, *filters, *res;
    int               nfilters = H5Pget_nfilters(dcpl), i;
    size_t            tsize = H5Tget_size(type);

    Py_INCREF(Py_None);
    Py_INCREF(Py_None);
    if (layout == H5D_CHUNKED) {
        hsize_t dims[H5S_MAX_RANK];
        int     rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, dims);
        if (rank >= 0) {
            Py_DECREF(chunks);
            chunks = dims_tuple(rank, dims, 0);
        }
    }
    H5D_fill_time_t fill_time = H5D_FILL_TIME_IFSET;

    /* fill time "never": storage is never filled, so unwritten elements are
     * not the fill value (natively they are whatever the file held; here 0) */
    H5Pget_fill_time(dcpl, &fill_time);
    if (fill_time != H5D_FILL_TIME_NEVER && H5Pfill_value_defined(dcpl, &fill_status) >= 0
        && fill_status != H5D_FILL_VALUE_UNDEFINED) {
        /* bytes of one element; for vlen types the element as a Python value */
        char *buf = calloc(1, tsize);
        if (buf && H5Pget_fill_value(dcpl, type, buf) >= 0) {
            /* For a vlen type the pointers may be the list's own (HDF5 copies
             * the fill value shallowly when no conversion is needed): read,
             * never free them. */
            PyObject *value = pv_has_vlen(type) ? pv_vlen_unpack(type, buf)
                                                : PyBytes_FromStringAndSize(buf, (Py_ssize_t)tsize);
            if (value) {
                Py_DECREF(fill);
                fill = value;
            }
            else
                PyErr_Clear();
        }
        free(buf);
    }
    filters = PyList_New(0);
    for (i = 0; filters && i < nfilters; i++) {
        unsigned     flags = 0, cd[32], config = 0;
        size_t       ncd = 32, j;
        char         name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &config);
        PyObject    *cdv = PyTuple_New((Py_ssize_t)ncd);
        for (j = 0; cdv && j < ncd; j++)
            PyTuple_SET_ITEM(cdv, (Py_ssize_t)j, PyLong_FromUnsignedLong(cd[j]));
        PyObject *f = Py_BuildValue("(iIN)", (int)id, flags, cdv);
        if (f) {
            PyList_Append(filters, f);
            Py_DECREF(f);
        }
    }
    H5D_alloc_time_t alloc_time = H5D_ALLOC_TIME_DEFAULT;

    H5Pget_alloc_time(dcpl, &alloc_time); /* HDF5 answers with the layout's default when unset */
    res = Py_BuildValue("{s:s,s:N,s:N,s:N,s:N,s:s}", "layout",
                        layout == H5D_CHUNKED ? "chunked" : layout == H5D_COMPACT ? "compact"
                        : layout == H5D_VIRTUAL ? "virtual" : "contiguous",
                        "chunks", chunks, "fillvalue", fill, "filters", filters ? filters : PyList_New(0),
                        "dcpl", pv_dcpl_encode(dcpl, type), "alloc_time",
                        alloc_time == H5D_ALLOC_TIME_EARLY ? "early"
                        : alloc_time == H5D_ALLOC_TIME_INCR ? "incremental" : "late");
    return res;
}

int pv_check_plist(hid_t id, hid_t cls, const char *what)
{
    if (id == H5P_DEFAULT || H5Pisa_class(id, cls) > 0)
        return 1;
    pv_error(H5E_ARGS, H5E_BADTYPE, "not a %s property list", what);
    return 0;
}

/* HDF5's own (exported, private) accessor of the API context's LAPL; weak so
 * a library without it still loads us. */
extern hid_t H5CX_get_lapl(void) __attribute__((weak));

int pv_context_lapl_ok(void)
{
    hid_t lapl;

    if (!H5CX_get_lapl)
        return 1;
    lapl = H5CX_get_lapl();
    if (lapl == H5P_DEFAULT || lapl == H5P_LINK_ACCESS_DEFAULT)
        return 1;
    return pv_check_plist(lapl, H5P_LINK_ACCESS, "link access");
}

/* (link creation order flags, attribute creation order flags) of a
 * creation property list; H5P_CRT_ORDER_TRACKED = 1, _INDEXED = 2. */
PyObject *pv_link_phase_to_py(hid_t gcpl)
{
    unsigned max_compact = 8, min_dense = 6, est_num = 4, est_len = 8; /* HDF5's defaults */
    int      nfilters = 0;

    if (gcpl != H5P_DEFAULT && H5Pisa_class(gcpl, H5P_GROUP_CREATE) > 0) {
        H5Pget_link_phase_change(gcpl, &max_compact, &min_dense);
        H5Pget_est_link_info(gcpl, &est_num, &est_len);
        nfilters = H5Pget_nfilters(gcpl);
    }
    return Py_BuildValue("(IIIO)", max_compact, min_dense, est_num, nfilters > 0 ? Py_True : Py_False);
}

int pv_libver_low(hid_t fapl)
{
    H5F_libver_t low = H5F_LIBVER_EARLIEST, high = H5F_LIBVER_LATEST;

    if (fapl != H5P_DEFAULT && fapl >= 0)
        H5Pget_libver_bounds(fapl, &low, &high);
    return (int)low;
}

PyObject *pv_crt_order_to_py(hid_t cpl)
{
    unsigned links = 0, attrs = 0;
    hbool_t  track_times = 1; /* HDF5's default */

    if (cpl != H5P_DEFAULT) {
        if (H5Pisa_class(cpl, H5P_GROUP_CREATE) > 0)
            H5Pget_link_creation_order(cpl, &links);
        if (H5Pisa_class(cpl, H5P_OBJECT_CREATE) > 0) {
            H5Pget_attr_creation_order(cpl, &attrs);
            H5Pget_obj_track_times(cpl, &track_times);
        }
    }
    return Py_BuildValue("(IIO)", links, attrs, track_times ? Py_True : Py_False);
}
