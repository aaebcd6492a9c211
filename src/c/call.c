/*
 * Calling into Python and reporting what goes wrong there on HDF5's error
 * stack.
 *
 * Errors are recorded first and pushed when the callback returns
 * (pv_error_flush): HDF5 clears its error stack on entry to every API
 * function, and our callbacks call API functions (H5Sclose, H5Tconvert, ...)
 * while cleaning up.
 */
#include "bridge.h"

#include <stdarg.h>
#include <string.h>

#define PV_MAX_PENDING 4
#define PV_MSG_SIZE    4096

typedef struct {
    hid_t major, minor;
    char  msg[PV_MSG_SIZE];
} pv_pending_t;

static pv_pending_t pending[PV_MAX_PENDING];
static int          n_pending;
static hid_t        error_class = H5I_INVALID_HID;

void pv_error(hid_t major, hid_t minor, const char *fmt, ...)
{
    va_list ap;

    if (n_pending == PV_MAX_PENDING)
        return;
    pending[n_pending].major = major;
    pending[n_pending].minor = minor;
    va_start(ap, fmt);
    vsnprintf(pending[n_pending].msg, PV_MSG_SIZE, fmt, ap);
    va_end(ap);
    n_pending++;
}

void pv_error_flush(void)
{
    int i;

    if (!n_pending)
        return;
    if (error_class == H5I_INVALID_HID)
        error_class = H5Eregister_class(H5PYVOL_NAME, H5PYVOL_NAME, "1.0");
    for (i = 0; i < n_pending; i++)
        H5Epush2(H5E_DEFAULT, __FILE__, "H5PyVOL", __LINE__,
                 error_class == H5I_INVALID_HID ? H5E_ERR_CLS : error_class,
                 pending[i].major, pending[i].minor, "%s", pending[i].msg);
    n_pending = 0;
}

void pv_error_class_close(void)
{
    if (error_class != H5I_INVALID_HID)
        H5Eunregister_class(error_class);
    error_class = H5I_INVALID_HID;
}

/* HDF5's error codes by name, so Python can say which fits an exception. */
static hid_t error_code(const char *name)
{
#define PV_CODE(n) if (!strcmp(name, #n)) return n;
    PV_CODE(H5E_ARGS) PV_CODE(H5E_ATTR) PV_CODE(H5E_DATASET) PV_CODE(H5E_DATASPACE)
    PV_CODE(H5E_DATATYPE) PV_CODE(H5E_FILE) PV_CODE(H5E_IO) PV_CODE(H5E_LINK)
    PV_CODE(H5E_OHDR) PV_CODE(H5E_PLIST) PV_CODE(H5E_STORAGE) PV_CODE(H5E_SYM)
    PV_CODE(H5E_VOL) PV_CODE(H5E_REFERENCE) PV_CODE(H5E_RESOURCE) PV_CODE(H5E_PLINE)
    PV_CODE(H5E_NOTFOUND) PV_CODE(H5E_EXISTS) PV_CODE(H5E_ALREADYEXISTS)
    PV_CODE(H5E_FILEEXISTS) PV_CODE(H5E_CANTOPENFILE) PV_CODE(H5E_CANTCREATE)
    PV_CODE(H5E_UNSUPPORTED) PV_CODE(H5E_BADVALUE) PV_CODE(H5E_BADTYPE)
    PV_CODE(H5E_BADRANGE) PV_CODE(H5E_CANTINIT) PV_CODE(H5E_CALLBACK)
    PV_CODE(H5E_READERROR) PV_CODE(H5E_WRITEERROR) PV_CODE(H5E_CANTGET)
    PV_CODE(H5E_CANTSET) PV_CODE(H5E_CANTDELETE) PV_CODE(H5E_CANTOPENOBJ)
    PV_CODE(H5E_CANTCLOSEOBJ) PV_CODE(H5E_CANTCLOSEFILE) PV_CODE(H5E_NOSPACE)
    PV_CODE(H5E_CANTALLOC) PV_CODE(H5E_OVERFLOW) PV_CODE(H5E_CANTCOPY)
    PV_CODE(H5E_CANTMOVE) PV_CODE(H5E_CANTFLUSH) PV_CODE(H5E_CANTLOAD)
    PV_CODE(H5E_NOTHDF5) PV_CODE(H5E_BADFILE) PV_CODE(H5E_CANTCONVERT)
    PV_CODE(H5E_CANTRENAME) PV_CODE(H5E_BADSELECT) PV_CODE(H5E_CANTCOMPARE)
    PV_CODE(H5E_CANTDELETEFILE) PV_CODE(H5E_NOIDS) PV_CODE(H5E_BADITER)
    PV_CODE(H5E_SYSERRSTR) PV_CODE(H5E_CANTREGISTER) PV_CODE(H5E_CLOSEERROR)
#undef PV_CODE
    return H5I_INVALID_HID;
}

/* Turns the current Python exception into a pending HDF5 error.  The dispatch
 * module picks the codes and writes the text (type, message, and the
 * traceback when H5PYVOL_DEBUG=1). */
void pv_error_from_python(hid_t major, const char *where)
{
    PyObject *type, *value, *tb, *desc = NULL;
    hid_t     maj = major, min = H5E_CALLBACK;
    const char *text = NULL, *maj_name, *min_name;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    if (pv_dispatch && value)
        desc = PyObject_CallMethod(pv_dispatch, "describe_error", "Os", value, where);
    if (desc && PyArg_ParseTuple(desc, "sss", &maj_name, &min_name, &text)) {
        if (error_code(maj_name) != H5I_INVALID_HID)
            maj = error_code(maj_name);
        if (error_code(min_name) != H5I_INVALID_HID)
            min = error_code(min_name);
        pv_error(maj, min, "%s", text);
    }
    else {
        PyObject   *str = value ? PyObject_Str(value) : NULL;
        const char *msg = str ? PyUnicode_AsUTF8(str) : NULL;

        PyErr_Clear();
        pv_error(maj, min, "%s: %s: %s", where,
                 type ? ((PyTypeObject *)type)->tp_name : "error", msg ? msg : "(no message)");
        Py_XDECREF(str);
    }
    PyErr_Clear();
    Py_XDECREF(desc);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

static PyObject *call_va(hid_t major, const char *func, const char *fmt, va_list ap)
{
    PyObject *fn, *args, *result = NULL;

    if (!(fn = PyObject_GetAttrString(pv_dispatch, func))) {
        pv_error_from_python(major, func);
        return NULL;
    }
    args = Py_VaBuildValue(fmt, ap);
    if (args && !PyTuple_Check(args)) {
        PyObject *one = PyTuple_Pack(1, args);
        Py_DECREF(args);
        args = one;
    }
    if (args)
        result = PyObject_Call(fn, args, NULL);
    Py_XDECREF(args);
    Py_DECREF(fn);
    if (!result)
        pv_error_from_python(major, func);
    return result;
}

PyObject *pv_call(hid_t major, const char *func, const char *fmt, ...)
{
    va_list   ap;
    PyObject *result;

    va_start(ap, fmt);
    result = call_va(major, func, fmt, ap);
    va_end(ap);
    return result;
}

int pv_call_void(hid_t major, const char *func, const char *fmt, ...)
{
    va_list   ap;
    PyObject *result;

    va_start(ap, fmt);
    result = call_va(major, func, fmt, ap);
    va_end(ap);
    Py_XDECREF(result);
    return result ? 0 : -1;
}
