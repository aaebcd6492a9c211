/*
 * The interpreter: join the host's, or boot one in a C host.
 *
 * A Python host (h5py) already runs an interpreter; we only import our
 * dispatch module and never finalize it.  A C host gets an interpreter on
 * first real use, configured from the Python environment the package is
 * installed in (found from this library's own path), so a C program started
 * outside any virtualenv still finds h5pyvol and numpy.  After booting we
 * release the GIL so every callback can take it with PyGILState_Ensure,
 * whichever thread HDF5 calls from.
 */
#define _GNU_SOURCE
#include "bridge.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PyObject *pv_dispatch;
static int started; /* 0 not yet, 1 ready, -1 failed for good */

int pv_python_started(void)
{
    return started == 1 && Py_IsInitialized();
}

int pv_python_gone(void)
{
    return started == 1 && !Py_IsInitialized();
}

/* site-packages directory of the installed package: this file lives in
 * <site-packages>/h5pyvol/plugin/h5pyvol_bridge.so */
static int site_packages_dir(char *out, size_t size)
{
    Dl_info info;
    char    path[PATH_MAX];
    char   *dir;

    if (!dladdr((void *)&site_packages_dir, &info) || !info.dli_fname)
        return -1;
    if (!realpath(info.dli_fname, path))
        return -1;
    dir = dirname(dirname(dirname(path)));
    snprintf(out, size, "%s", dir);
    return 0;
}

/* Boots CPython for a C host.  The program name points at the environment's
 * own python (a virtualenv's bin/python3 carries pyvenv.cfg beside it), so
 * Python computes the same sys.path a shell with that venv would get. */
static int boot(const char *site)
{
    char      prefix[PATH_MAX + 16], exe[PATH_MAX + 32];
    PyConfig  config;
    PyStatus  status;

    snprintf(prefix, sizeof prefix, "%s/../../..", site); /* <prefix>/lib/pythonX.Y/site-packages */
    snprintf(exe, sizeof exe, "%s/bin/python3", prefix);
    if (access(exe, X_OK) != 0)
        snprintf(exe, sizeof exe, "%s", H5PYVOL_PYTHON);

    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* the C host owns SIGINT */
    config.parse_argv = 0;
    config.user_site_directory = 0;
    /* this interpreter is never finalized (HDF5 may call in until the host's
     * very end): a connector's prints must not wait in a buffer nobody flushes */
    config.buffered_stdio = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name, exe);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        pv_error(H5E_VOL, H5E_CANTINIT, "cannot start Python (%s): %s", exe,
                 status.err_msg ? status.err_msg : "unknown error");
        return -1;
    }
    return 0;
}

/* Makes sure our package's directory is importable (a Python host may run
 * from another environment), then imports the dispatch module. */
static int import_dispatch(const char *site)
{
    PyObject *sys_path, *entry;

    if ((sys_path = PySys_GetObject("path")) && (entry = PyUnicode_DecodeFSDefault(site))) {
        int found = PySequence_Contains(sys_path, entry);
        if (found == 0)
            PyList_Append(sys_path, entry);
        Py_DECREF(entry);
    }
    PyErr_Clear();
    pv_dispatch = PyImport_ImportModule("h5pyvol._dispatch");
    if (!pv_dispatch) {
        pv_error_from_python(H5E_VOL, "importing h5pyvol._dispatch");
        return -1;
    }
    if (pv_native_install(pv_dispatch) < 0) {
        pv_error_from_python(H5E_VOL, "installing native helpers in h5pyvol._dispatch");
        return -1;
    }
    return 0;
}

int pv_python_start(void)
{
    char             site[PATH_MAX];
    PyGILState_STATE gil;
    int              booted = 0, rc;

    if (started)
        return started > 0 ? 0 : -1;
    if (site_packages_dir(site, sizeof site) < 0) {
        pv_error(H5E_VOL, H5E_CANTINIT, "cannot locate the h5pyvol package");
        started = -1;
        return -1;
    }
    if (!Py_IsInitialized()) {
        if (boot(site) < 0) {
            started = -1;
            return -1;
        }
        booted = 1;
    }
    else
        gil = PyGILState_Ensure();
    rc = import_dispatch(site);
    if (rc == 0 && !booted) {
        PyObject *r = PyObject_CallMethod(pv_dispatch, "joined_python_host", NULL);
        if (!r)
            PyErr_Print(); /* it reports its own failures as warnings; this is a bug in it */
        Py_XDECREF(r);
    }
    if (booted)
        PyEval_SaveThread(); /* from now on every callback takes the GIL itself */
    else
        PyGILState_Release(gil);
    /* A failed import is retried on the next call: the user may fix sys.path. */
    if (rc == 0)
        started = 1;
    return rc;
}
