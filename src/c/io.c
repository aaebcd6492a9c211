/*
 * Element I/O shared by datasets (H5Dread/H5Dwrite) and attributes
 * (H5Aread/H5Awrite).
 *
 * A connector only ever sees dense data in the object's own type plus the
 * file-side selection: the memory side (any selection, any convertible
 * type) is gathered, scattered and converted here with HDF5's own
 * H5Dgather/H5Dscatter/H5Tconvert.  When the memory type equals the file
 * type and the memory selection covers the buffer in order, the connector
 * gets a view of the caller's buffer: no copy.
 */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

const pv_io_kind_t pv_dataset_io = {"dataset_type", "dataset_extent", "dataset_read", "dataset_write",
                                    "dataset_read_elements", "dataset_write_elements"};
const pv_io_kind_t pv_attr_io = {"attr_type", "attr_extent", "attr_read", "attr_write", "attr_read_elements",
                                 "attr_write_elements"};

static hid_t major_of(const pv_io_kind_t *k)
{
    return k == &pv_attr_io ? H5E_ATTR : H5E_DATASET;
}

hid_t pv_io_type(const pv_io_kind_t *k, pv_obj_t *o)
{
    PyObject *spec = pv_call(major_of(k), k->type_fn, "(O)", o->py);
    hid_t     t = spec ? pv_type_from_py(spec) : H5I_INVALID_HID;

    if (spec && t < 0)
        pv_error_from_python(H5E_DATATYPE, k->type_fn);
    Py_XDECREF(spec);
    return t;
}

hid_t pv_io_stored_type(const pv_io_kind_t *k, pv_obj_t *o)
{
    if (o->io_type < 0)
        o->io_type = pv_io_type(k, o);
    return o->io_type;
}

hid_t pv_io_space(const pv_io_kind_t *k, pv_obj_t *o)
{
    PyObject *extent = pv_call(major_of(k), k->extent_fn, "(O)", o->py);
    hid_t     s = extent ? pv_space_from_py(extent) : H5I_INVALID_HID;

    if (extent && s < 0)
        pv_error_from_python(H5E_DATASPACE, k->extent_fn);
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
static int release_view(PyObject *view, const char *what, int call_failed)
{
    /* numpy's arrays hold memoryviews derived from ours, which register on
     * the same managed buffer: more than our own export means a kept array.
     * After a failed call the exception's frames still hold them: that
     * error is the one to report. */
    int       kept = !call_failed && (Py_REFCNT(view) > 1 || ((PyMemoryViewObject *)view)->mbuf->exports > 1);
    PyObject *r;

    if (kept) {
        /* maybe only garbage: an exception a library caught holds frames in a
         * cycle, and their f_back reaches the frame that held the view (the
         * collector is off inside callbacks, see PV_ENTER) */
        int was_on = PyGC_Enable();
        PyGC_Collect();
        if (!was_on)
            PyGC_Disable();
        kept = Py_REFCNT(view) > 1 || ((PyMemoryViewObject *)view)->mbuf->exports > 1;
    }
    r = PyObject_CallMethod(view, "release", NULL);

    Py_XDECREF(r);
    PyErr_Clear();
    if ((!r && !call_failed) || kept) {
        pv_error(H5E_DATASET, H5E_CALLBACK,
                 "the connector kept a reference to HDF5's buffer after %s returned; copy the data it keeps "
                 "(numpy.array(data)) instead of keeping views of it",
                 what);
        return -1;
    }
    return 0;
}

/* Calls Python's read or write function with a view of `buf`. */
static int call_with_view(const pv_io_kind_t *k, pv_obj_t *o, const char *fn, PyObject *sel, void *buf,
                          size_t nbytes, int writable)
{
    PyObject *view, *r;
    int       ret;

    if (!(view = PyMemoryView_FromMemory(buf, (Py_ssize_t)nbytes, writable ? PyBUF_WRITE : PyBUF_READ))) {
        pv_error_from_python(major_of(k), fn);
        return -1;
    }
    r = pv_call(major_of(k), fn, "(OOO)", o->py, sel, view);
    ret = release_view(view, fn, !r) < 0 || !r ? -1 : 0;
    Py_XDECREF(r);
    Py_DECREF(view);
    return ret;
}

typedef struct {
    hid_t  ftype;  /* the object's, borrowed (pv_io_stored_type) */
    hid_t  fspace; /* the object's extent, only fetched for H5S_ALL */
    hid_t  fsel, msel;    /* effective selections, borrowed */
    size_t n, fsize, msize;
    int    same_type, dense;
    int    vlen;  /* elements hold pointers: they cross as Python values (vlen.c) */
    int    xform; /* H5Pset_data_transform: applied to the memory-type elements (native.c) */
} io_plan_t;

static int plan_io(const pv_io_kind_t *k, pv_obj_t *o, hid_t mem_type, hid_t mem_space, hid_t file_space,
                   hid_t dxpl, const void *buf, io_plan_t *p)
{
    hssize_t nf, nm;

    memset(p, 0, sizeof *p);
    p->ftype = p->fspace = H5I_INVALID_HID;
    if ((p->ftype = pv_io_stored_type(k, o)) < 0)
        return -1;
    /* Only an H5S_ALL needs the extent: asking Python for it on every call
     * would double a small read's cost. */
    if (file_space == H5S_ALL && (p->fspace = pv_io_space(k, o)) < 0)
        return -1;
    p->fsel = file_space == H5S_ALL ? p->fspace : file_space;
    p->msel = mem_space == H5S_ALL ? p->fsel : mem_space;
    nf = H5Sget_select_npoints(p->fsel);
    nm = H5Sget_select_npoints(p->msel);
    if (nf < 0 || nm < 0 || nf != nm) {
        pv_error(H5E_DATASPACE, H5E_BADSELECT, "memory selection has %lld elements, file selection %lld",
                 (long long)nm, (long long)nf);
        return -1;
    }
    p->n = (size_t)nf;
    if (p->n && !buf) {
        pv_error(H5E_ARGS, H5E_BADVALUE, "no data buffer for %zu elements", p->n);
        return -1;
    }
    p->fsize = H5Tget_size(p->ftype);
    p->msize = H5Tget_size(mem_type);
    p->same_type = H5Tequal(p->ftype, mem_type) > 0;
    p->dense = dense_selection(p->msel);
    p->vlen = pv_has_vlen(p->ftype);
    /* as natively, transforms apply to dataset I/O only */
    p->xform = k == &pv_dataset_io && pv_has_transform(dxpl);
    return 0;
}

static void plan_close(io_plan_t *p)
{
    if (p->fspace >= 0)
        H5Sclose(p->fspace);
}

/* Variable-length elements: Python returns one encoded value per element,
 * which are packed into `target` (n elements of the file type). */
static int read_elements(const pv_io_kind_t *k, pv_obj_t *o, const io_plan_t *p, PyObject *sel, char *target,
                         hid_t dxpl)
{
    PyObject  *items = pv_call(major_of(k), k->read_elements_fn, "(OO)", o->py, sel);
    Py_ssize_t i;
    int        ret = 0;

    if (!items)
        return -1;
    if (!PyList_Check(items) || (size_t)PyList_GET_SIZE(items) != p->n) {
        pv_error(H5E_DATASET, H5E_READERROR, "%s must return a list of %zu elements", k->read_elements_fn, p->n);
        Py_DECREF(items);
        return -1;
    }
    memset(target, 0, p->n * p->fsize);
    pv_vlen_set_allocator(dxpl);
    pv_vlen_set_ref_file(o->py);
    for (i = 0; ret == 0 && i < (Py_ssize_t)p->n; i++)
        ret = pv_vlen_pack(p->ftype, PyList_GET_ITEM(items, i), target + (size_t)i * p->fsize);
    pv_vlen_set_allocator(H5P_DEFAULT);
    pv_vlen_set_ref_file(NULL);
    if (ret < 0) {
        pv_error_from_python(H5E_DATATYPE, k->read_elements_fn);
        pv_vlen_reclaim(p->ftype, target, (size_t)i);
    }
    Py_DECREF(items);
    return ret;
}

static int write_elements(const pv_io_kind_t *k, pv_obj_t *o, const io_plan_t *p, PyObject *sel, const char *source)
{
    PyObject *items = PyList_New((Py_ssize_t)p->n);
    size_t    i;
    int       ret;

    for (i = 0; items && i < p->n; i++) {
        PyObject *item = pv_vlen_unpack(p->ftype, source + i * p->fsize);
        if (!item) {
            Py_CLEAR(items);
            break;
        }
        PyList_SET_ITEM(items, (Py_ssize_t)i, item);
    }
    if (!items) {
        pv_error_from_python(H5E_DATATYPE, k->write_elements_fn);
        return -1;
    }
    ret = pv_call_void(major_of(k), k->write_elements_fn, "(OOO)", o->py, sel, items);
    Py_DECREF(items);
    return ret;
}

/* Does the stored compound `ftype` have members (at any depth) that the
 * memory compound `mtype` lacks?  Only then must a write keep stored values
 * in the conversion's background buffer. */
static int lacks_members(hid_t ftype, hid_t mtype)
{
    int i, n = H5Tget_nmembers(ftype), lacks = 0;

    for (i = 0; i < n && !lacks; i++) {
        char *name = H5Tget_member_name(ftype, (unsigned)i);
        int   at = name ? H5Tget_member_index(mtype, name) : -1;
        if (at < 0)
            lacks = 1;
        else if (H5Tget_member_class(ftype, (unsigned)i) == H5T_COMPOUND
                 && H5Tget_member_class(mtype, (unsigned)at) == H5T_COMPOUND) {
            hid_t fm = H5Tget_member_type(ftype, (unsigned)i), mm = H5Tget_member_type(mtype, (unsigned)at);
            lacks = lacks_members(fm, mm);
            H5Tclose(fm);
            H5Tclose(mm);
        }
        H5free_memory(name);
    }
    return lacks;
}

/* Frees the variable-length data of the stored members the memory compound
 * also has (n elements of `stride` bytes from `base`): the conversion
 * overwrites them. */
static void reclaim_overwritten(hid_t ftype, hid_t mtype, char *base, size_t n, size_t stride)
{
    int i, members = H5Tget_nmembers(ftype);

    for (i = 0; i < members; i++) {
        char  *name = H5Tget_member_name(ftype, (unsigned)i);
        int    at = name ? H5Tget_member_index(mtype, name) : -1;
        hid_t  fm = at < 0 ? -1 : H5Tget_member_type(ftype, (unsigned)i);
        size_t off = H5Tget_member_offset(ftype, (unsigned)i), e;

        if (fm >= 0 && H5Tget_class(fm) == H5T_COMPOUND && H5Tget_member_class(mtype, (unsigned)at) == H5T_COMPOUND) {
            hid_t mm = H5Tget_member_type(mtype, (unsigned)at);
            reclaim_overwritten(fm, mm, base + off, n, stride);
            H5Tclose(mm);
        }
        else if (fm >= 0 && pv_has_vlen(fm)) {
            size_t size = H5Tget_size(fm);
            for (e = 0; e < n; e++) {
                pv_vlen_reclaim(fm, base + e * stride + off, 1);
                memset(base + e * stride + off, 0, size);
            }
        }
        if (fm >= 0)
            H5Tclose(fm);
        H5free_memory(name);
    }
}

/* The background of a conversion into the stored compound type: the stored
 * values where the memory type lacks members (they must survive), zeros
 * otherwise.  NULL with an error recorded on failure. */
static void *write_background(const pv_io_kind_t *k, pv_obj_t *o, const io_plan_t *p, hid_t mem_type, PyObject *sel)
{
    void *bkg = calloc(p->n, p->fsize);

    if (!bkg) {
        pv_error(H5E_RESOURCE, H5E_CANTALLOC, "cannot allocate %zu bytes", p->n * p->fsize);
        return NULL;
    }
    if (H5Tget_class(mem_type) != H5T_COMPOUND || !lacks_members(p->ftype, mem_type))
        return bkg;
    if (p->vlen) {
        if (read_elements(k, o, p, sel, bkg, H5P_DEFAULT) < 0)
            goto failed;
        reclaim_overwritten(p->ftype, mem_type, bkg, p->n, p->fsize);
    }
    else if (call_with_view(k, o, k->read_fn, sel, bkg, p->n * p->fsize, 1) < 0)
        goto failed;
    return bkg;
failed:
    free(bkg);
    return NULL;
}

static int is_old_reference(hid_t t)
{
    return H5Tequal(t, H5T_STD_REF_OBJ) > 0 || H5Tequal(t, H5T_STD_REF_DSETREG) > 0;
}

static int is_new_reference(hid_t t)
{
    return H5Tequal(t, H5T_STD_REF) > 0;
}

/* Does `t` hold references `is_kind` accepts: itself (1), or inside a
 * compound or array -- and a vlen sequence if `into_vlen` -- (2)? */
static int holds_reference(hid_t t, int (*is_kind)(hid_t), int into_vlen)
{
    H5T_class_t cls = H5Tget_class(t);
    int         found = 0, i, n;
    hid_t       sub;

    if (cls == H5T_REFERENCE)
        return is_kind(t);
    if (cls == H5T_ARRAY || (into_vlen && cls == H5T_VLEN)) {
        sub = H5Tget_super(t);
        found = holds_reference(sub, is_kind, into_vlen) ? 2 : 0;
        H5Tclose(sub);
    }
    else if (cls == H5T_COMPOUND)
        for (i = 0, n = H5Tget_nmembers(t); i < n && !found; i++) {
            sub = H5Tget_member_type(t, (unsigned)i);
            found = holds_reference(sub, is_kind, into_vlen) ? 2 : 0;
            H5Tclose(sub);
        }
    return found;
}

/* Stored first-kind references read as H5R_ref_t: HDF5's conversion
 * needs the native file the references point into (it crashes without
 * one), so the elements are described in Python and rebuilt here. */
static int read_old_references(const pv_io_kind_t *k, pv_obj_t *o, const io_plan_t *p, PyObject *sel, char *raw,
                               char *target)
{
    int        region = H5Tequal(p->ftype, H5T_STD_REF_DSETREG) > 0, ret = 0;
    PyObject  *items;
    Py_ssize_t i;

    if (call_with_view(k, o, k->read_fn, sel, raw, p->n * p->fsize, 1) < 0)
        return -1;
    items = PyObject_CallMethod(pv_dispatch, "old_references", "(Oy#O)", o->py, raw, (Py_ssize_t)(p->n * p->fsize),
                                region ? Py_True : Py_False);
    if (!items || !PyList_Check(items) || (size_t)PyList_GET_SIZE(items) != p->n) {
        Py_XDECREF(items);
        pv_error_from_python(H5E_DATATYPE, "old_references");
        return -1;
    }
    memset(target, 0, p->n * sizeof(H5R_ref_t));
    pv_vlen_set_ref_file(o->py);
    for (i = 0; ret == 0 && i < (Py_ssize_t)p->n; i++)
        ret = pv_vlen_pack(H5T_STD_REF, PyList_GET_ITEM(items, i), target + (size_t)i * sizeof(H5R_ref_t));
    pv_vlen_set_ref_file(NULL);
    if (ret < 0)
        pv_error_from_python(H5E_DATATYPE, "old_references");
    Py_DECREF(items);
    return ret;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

herr_t pv_io_read(const pv_io_kind_t *k, pv_obj_t *o, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
                  void *buf)
{
    io_plan_t p;
    void     *tmp = NULL, *bkg = NULL, *target;
    PyObject *sel = NULL;
    herr_t    ret = -1;
    int       old_refs;

    if (plan_io(k, o, mem_type, mem_space, file_space, dxpl, buf, &p) < 0)
        goto done;
    if (p.n == 0) {
        ret = 0;
        goto done;
    }
    if (p.same_type && p.dense && !p.xform)
        target = buf;
    else if (!(target = tmp = malloc(p.n * max_size(p.fsize, p.msize)))) {
        pv_error(H5E_RESOURCE, H5E_CANTALLOC, "cannot allocate %zu bytes", p.n * max_size(p.fsize, p.msize));
        goto done;
    }
    if (!(sel = pv_selection_to_py(p.fsel))) {
        pv_error_from_python(major_of(k), k->read_fn);
        goto done;
    }
    if (!p.same_type && holds_reference(mem_type, is_new_reference, 1)
        && (old_refs = holds_reference(p.ftype, is_old_reference, 0))) {
        void *raw;
        if (old_refs == 2 || !is_new_reference(mem_type)) {
            pv_error(H5E_DATATYPE, H5E_UNSUPPORTED,
                     "H5PyVOL cannot convert stored H5T_STD_REF_OBJ/H5T_STD_REF_DSETREG references inside compound "
                     "or array types to H5T_STD_REF; read them as stored");
            goto done;
        }
        if (!(raw = malloc(p.n * p.fsize))) {
            pv_error(H5E_RESOURCE, H5E_CANTALLOC, "cannot allocate %zu bytes", p.n * p.fsize);
            goto done;
        }
        ret = read_old_references(k, o, &p, sel, raw, tmp);
        free(raw);
        if (ret < 0)
            goto done;
        ret = -1;
        if (p.dense)
            memcpy(buf, tmp, p.n * p.msize);
        else {
            scatter_src_t src = {tmp, p.n * p.msize};
            if (H5Dscatter(scatter_source, &src, mem_type, p.msel, buf) < 0) {
                pv_error(H5E_DATASET, H5E_READERROR, "cannot scatter data into the memory selection");
                goto done;
            }
        }
        ret = 0;
        goto done;
    }
    if (p.vlen) {
        /* Unconverted elements end up in the caller's buffer: their allocator.
         * Converted ones are reallocated by H5Tconvert and ours freed here. */
        if (read_elements(k, o, &p, sel, target, p.same_type ? dxpl : H5P_DEFAULT) < 0)
            goto done;
    }
    else if (call_with_view(k, o, k->read_fn, sel, target, p.n * p.fsize, 1) < 0)
        goto done;
    if (tmp) {
        if (!p.same_type) {
            /* Compound subsets keep the fields the file lacks from the caller's buffer. */
            if (H5Tget_class(mem_type) == H5T_COMPOUND) {
                if (!(bkg = calloc(p.n, p.msize))
                    || H5Dgather(p.msel, buf, mem_type, p.n * p.msize, bkg, NULL, NULL) < 0)
                    goto convert_failed;
            }
            if (p.vlen) {
                /* converting allocates new sequences: free the ones we packed */
                void *packed = malloc(p.n * p.fsize);
                if (!packed)
                    goto convert_failed;
                memcpy(packed, tmp, p.n * p.fsize);
                if (H5Tconvert(p.ftype, mem_type, p.n, tmp, bkg, dxpl) < 0) {
                    free(packed);
                    goto convert_failed;
                }
                pv_vlen_reclaim(p.ftype, packed, p.n);
                free(packed);
            }
            else if (H5Tconvert(p.ftype, mem_type, p.n, tmp, bkg, dxpl) < 0)
                goto convert_failed;
        }
        /* natively the transform follows the conversion, in the memory type */
        if (p.xform && pv_apply_transform(dxpl, mem_type, tmp, p.n) < 0)
            goto done;
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
    pv_error(H5E_DATATYPE, H5E_CANTCONVERT, "cannot convert the stored type to the memory type");
done:
    Py_XDECREF(sel);
    free(tmp);
    free(bkg);
    plan_close(&p);
    return ret;
}

herr_t pv_io_write(const pv_io_kind_t *k, pv_obj_t *o, hid_t mem_type, hid_t mem_space, hid_t file_space,
                   hid_t dxpl, const void *buf)
{
    io_plan_t p;
    void     *tmp = NULL, *bkg = NULL, *source;
    PyObject *sel = NULL;
    herr_t    ret = -1;

    if (plan_io(k, o, mem_type, mem_space, file_space, dxpl, buf, &p) < 0)
        goto done;
    if (p.n == 0) {
        ret = 0;
        goto done;
    }
    if (!(sel = pv_selection_to_py(p.fsel))) {
        pv_error_from_python(major_of(k), k->write_fn);
        goto done;
    }
    if (p.same_type && p.dense && !p.xform)
        source = (void *)buf;
    else {
        if (!(source = tmp = malloc(p.n * max_size(p.fsize, p.msize)))) {
            pv_error(H5E_RESOURCE, H5E_CANTALLOC, "cannot allocate %zu bytes", p.n * max_size(p.fsize, p.msize));
            goto done;
        }
        if (p.dense)
            memcpy(tmp, buf, p.n * p.msize);
        else if (H5Dgather(p.msel, buf, mem_type, p.n * p.msize, tmp, NULL, NULL) < 0) {
            pv_error(H5E_DATASET, H5E_WRITEERROR, "cannot gather data from the memory selection");
            goto done;
        }
        /* natively the transform precedes the conversion, in the memory type */
        if (p.xform && pv_apply_transform(dxpl, mem_type, tmp, p.n) < 0)
            goto done;
        if (!p.same_type) {
            /* Writing some fields of a compound: the others keep their stored values. */
            if (H5Tget_class(p.ftype) == H5T_COMPOUND && !(bkg = write_background(k, o, &p, mem_type, sel)))
                goto done;
            if (H5Tconvert(mem_type, p.ftype, p.n, tmp, bkg, dxpl) < 0) {
                pv_error(H5E_DATATYPE, H5E_CANTCONVERT, "cannot convert the memory type to the stored type");
                goto done;
            }
        }
    }
    if (p.vlen) {
        int failed = write_elements(k, o, &p, sel, source) < 0;
        if (tmp && !p.same_type) /* conversion allocated these sequences */
            pv_vlen_reclaim(p.ftype, tmp, p.n);
        if (failed)
            goto done;
    }
    else if (call_with_view(k, o, k->write_fn, sel, source, p.n * p.fsize, 0) < 0)
        goto done;
    ret = 0;
done:
    Py_XDECREF(sel);
    free(tmp);
    free(bkg);
    plan_close(&p);
    return ret;
}
