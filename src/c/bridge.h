/*
 * Declarations shared by the files of h5pyvol_bridge.so, the connector proper.
 * Each VOL class has its own file (file.c, group.c, dataset.c, ...); this
 * header carries what they all need: the object handle, the Python entry and
 * the error helpers.
 */
#ifndef H5PYVOL_BRIDGE_H
#define H5PYVOL_BRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <hdf5.h>

#define H5PYVOL_NAME  "H5PyVOL"
#define H5PYVOL_VALUE ((H5VL_class_value_t)300) /* HDF5's testing range is 256-511 */
#define H5PYVOL_CONN_VERSION 1

/* What HDF5 holds for each open object: the connector's Python object.
 * Several handles may share one Python object (H5Oopen twice, obj.file);
 * each handle is closed once by HDF5. */
typedef struct pv_obj_t {
    PyObject  *py;   /* strong reference, released when HDF5 closes the handle */
    H5I_type_t kind; /* H5I_FILE, H5I_GROUP, H5I_DATASET, H5I_DATATYPE or H5I_ATTR */
    hid_t      apl;  /* the access property list this handle was opened with, or -1 */
    /* Which H5Fopen/H5Fcreate this handle descends from (H5F_OBJ_LOCAL counts
     * only those): fresh for files, inherited from the location otherwise. */
    unsigned long file_instance;
    signed char   virtual_layout; /* datasets: 1 virtual (H5Pset_virtual), 0 not, -1 not asked yet */
    /* The absolute path this handle was opened or created by, as
     * _dispatch.opened_path describes it, or NULL: H5Iget_name reports it
     * (natively an object opened through a soft link is named by the link). */
    PyObject *path;
    /* Datasets and attributes: their stored type, made on the first I/O and
     * kept (HDF5 never changes it), so a one-element read does not rebuild
     * it from Python every call.  -1 until then. */
    hid_t io_type;
} pv_obj_t;

/* Connector info: the text after "H5PyVOL " in HDF5_VOL_CONNECTOR, or the
 * string given to H5Pset_vol.  Parsed in Python. */
typedef struct pv_info_t {
    char *config;
} pv_info_t;

/* ---- interp.c: the interpreter -------------------------------------------- */
int  pv_python_start(void);  /* boot or join; 0, or -1 with an error recorded */
int  pv_python_started(void);
/* The host's interpreter has been finalized (HDF5 closes leftover handles
 * from its atexit handler, after a Python host has shut down). */
int  pv_python_gone(void);
extern PyObject *pv_dispatch; /* the module h5pyvol._dispatch */

/* Every callback that reaches Python is bracketed by these. */
#define PV_ENTER(failval)                                                      \
    PyGILState_STATE pv_gil;                                                   \
    if (!pv_context_lapl_ok()) {                                               \
        pv_error_flush();                                                      \
        return failval;                                                        \
    }                                                                          \
    if (pv_python_gone()) {                                                    \
        pv_error(H5E_VOL, H5E_CANTINIT, "Python has already shut down");       \
        pv_error_flush();                                                      \
        return failval;                                                        \
    }                                                                          \
    if (pv_python_start() < 0) {                                               \
        pv_error_flush();                                                      \
        return failval;                                                        \
    }                                                                          \
    pv_gil = PyGILState_Ensure();                                              \
    int pv_gc_was_on = PyGC_Disable()
/* The cyclic garbage collector stays off inside a callback: in an h5py host
 * it would free h5py objects whose destructors call HDF5 (H5Idec_ref) while
 * HDF5 is in the middle of the call that reached us (h5py's test_close_gc
 * crashed in H5Fclose that way). */
#define PV_LEAVE()                                                             \
    do {                                                                       \
        if (pv_gc_was_on)                                                      \
            PyGC_Enable();                                                     \
        PyGILState_Release(pv_gil);                                            \
        pv_error_flush();                                                      \
    } while (0)

/* ---- call.c: calling Python, errors ---------------------------------------- */
/* Calls h5pyvol._dispatch.<func>(*args) where args is built by Py_BuildValue
 * from fmt (which must describe a tuple).  Returns a new reference, or NULL
 * after turning the Python exception into a pending HDF5 error whose major
 * code defaults to `major`. */
PyObject *pv_call(hid_t major, const char *func, const char *fmt, ...);
/* Same, returning 0 or -1 and dropping the result. */
int pv_call_void(hid_t major, const char *func, const char *fmt, ...);
/* Records an error; it reaches HDF5's stack at pv_error_flush (HDF5 API calls
 * made in between would clear the stack if it were pushed at once). */
void pv_error(hid_t major, hid_t minor, const char *fmt, ...);
void pv_error_from_python(hid_t major, const char *where);
void pv_error_flush(void);
void pv_error_class_close(void);

/* ---- objects ---------------------------------------------------------------- */
pv_obj_t *pv_obj_new(PyObject *py, H5I_type_t kind); /* steals py; NULL->NULL */
void      pv_obj_free(pv_obj_t *obj);                /* GIL held */
pv_obj_t *pv_inherit(pv_obj_t *child, const pv_obj_t *parent); /* same file instance; NULL->NULL */
/* pv_inherit for a handle opened or created as `name` from `parent` (name may be NULL). */
pv_obj_t *pv_opened(pv_obj_t *child, const pv_obj_t *parent, const char *name);
/* The close callbacks: tell Python (`func`), then free the handle. */
herr_t    pv_close_handle(pv_obj_t *obj, hid_t major, const char *func);
/* Copies a Python str (None: "") into an HDF5 name buffer, reporting its length. */
int       pv_copy_name(PyObject *str, char *buf, size_t size, size_t *len_out);
/* For close callbacks: after Python shut down, only the C part can go. */
#define PV_CLOSE_AFTER_SHUTDOWN(obj)                                           \
    do {                                                                       \
        if (pv_python_gone()) {                                                \
            PyMem_RawFree(obj);                                                \
            return 0;                                                          \
        }                                                                      \
    } while (0)
/* Handle for the loc_params' target: by self, by name, by index or by token.
 * Returns a new reference to dispatch's location tuple. */
PyObject *pv_plist_capsule(hid_t plist);
hid_t     pv_fapl_copy(hid_t fapl);
hid_t     pv_plist_from_capsule(PyObject *capsule);
PyObject *pv_location(const pv_obj_t *obj, const H5VL_loc_params_t *loc);
/* Registers a fresh handle on the same Python object as a new hid_t. */
hid_t pv_register(PyObject *py, H5I_type_t kind);
/* Handle for the (kind, object) pair a dispatch call returned; steals pair. */
pv_obj_t *pv_obj_from_pair(PyObject *pair, H5I_type_t *kind_out);
int pv_token_from_py(PyObject *bytes, H5O_token_t *token);

/* ---- convert.c: HDF5 values <-> Python -------------------------------------- */
PyObject *pv_type_to_py(hid_t type_id);       /* type spec tuple */
hid_t     pv_type_from_py(PyObject *spec);    /* new datatype id, or -1 */
PyObject *pv_space_to_py(hid_t space_id);     /* (shape, maxshape) or None */
hid_t     pv_space_from_py(PyObject *extent); /* new dataspace id, or -1 */
PyObject *pv_selection_to_py(hid_t space_id); /* selection tuple */
PyObject *pv_plist_to_py(hid_t plist_id);     /* H5Pencode2 bytes */
PyObject *pv_dcpl_to_py(hid_t dcpl_id, hid_t type_id); /* DatasetCreation kwargs */
PyObject *pv_crt_order_to_py(hid_t cpl_id);            /* (link flags, attribute flags) */
/* (max_compact, min_dense, est_num_entries, has_filters) of a group or file creation list */
PyObject *pv_link_phase_to_py(hid_t gcpl_id);
int       pv_libver_low(hid_t fapl_id);                /* H5Pget_libver_bounds' low bound */
PyObject *pv_dcpl_encode(hid_t dcpl_id, hid_t type_id); /* H5Pencode2 bytes, minus vlen pointers */
hid_t     pv_plist_from_py(PyObject *blob, hid_t default_class);
PyObject *pv_str_or_none(const char *s);
H5I_type_t pv_kind_from_py(PyObject *name);   /* "group" -> H5I_GROUP */

/* ---- io.c: element I/O of datasets and attributes ------------------------------- */
typedef struct pv_io_kind_t { /* _dispatch functions */
    const char *type_fn, *extent_fn, *read_fn, *write_fn;
    const char *read_elements_fn, *write_elements_fn; /* for variable-length types */
} pv_io_kind_t;
extern const pv_io_kind_t pv_dataset_io, pv_attr_io;
hid_t  pv_io_type(const pv_io_kind_t *k, pv_obj_t *o);  /* new datatype id, or -1 */
hid_t  pv_io_stored_type(const pv_io_kind_t *k, pv_obj_t *o); /* the cached one (borrowed), or -1 */
hid_t  pv_io_space(const pv_io_kind_t *k, pv_obj_t *o); /* new dataspace id, or -1 */
herr_t pv_io_read(const pv_io_kind_t *k, pv_obj_t *o, hid_t mem_type, hid_t mem_space, hid_t file_space,
                  hid_t dxpl, void *buf);
herr_t pv_io_write(const pv_io_kind_t *k, pv_obj_t *o, hid_t mem_type, hid_t mem_space, hid_t file_space,
                   hid_t dxpl, const void *buf);
/* vlen.c: variable-length elements as Python values */
int       pv_has_vlen(hid_t type_id);
PyObject *pv_vlen_unpack(hid_t type_id, const char *element);
int       pv_vlen_pack(hid_t type_id, PyObject *value, char *element);
void      pv_vlen_reclaim(hid_t type_id, void *buf, size_t n);
void      pv_vlen_set_allocator(hid_t dxpl_id); /* the caller's H5Pset_vlen_mem_manager, or malloc */
void      pv_vlen_set_ref_file(PyObject *file); /* the file references read now point into */
/* native.c: HDF5's native library applied to buffers (scratch in-memory file) */
int pv_has_transform(hid_t dxpl);                   /* H5Pset_data_transform on this list? */
int pv_apply_transform(hid_t dxpl, hid_t mem_type, void *buf, size_t n); /* in place; 0 or -1 */
int pv_native_install(PyObject *dispatch);          /* _dispatch.native_filter_round_trip */
/* Is `id` H5P_DEFAULT or a property list of class `cls`?  Records an error if not. */
int pv_check_plist(hid_t id, hid_t cls, const char *what);
/* Is the link access property list of the current API call valid?  HDF5
 * release builds pass an invalid one through to the connector. */
int pv_context_lapl_ok(void);

/* ---- the VOL classes, one file each ------------------------------------------ */
#include "classes.h"

#endif
