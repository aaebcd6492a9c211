/*
 * libh5pyvol.so: the file HDF5 finds in HDF5_PLUGIN_PATH.
 *
 * It holds no Python code on purpose.  The connector proper lives in
 * h5pyvol_bridge.so beside it, which uses the Python C API but is not linked
 * to libpython: its Py* symbols must come from whatever Python is already in
 * the process (a Python host, linked statically or dynamically), or from the
 * libpython this loader opens with RTLD_GLOBAL when the host is a C program.
 * Linking the plugin itself to libpython would drag a second interpreter copy
 * into a statically linked Python host.
 *
 * Nothing here starts Python: the bridge boots it on first real use.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <H5PLextern.h>

#ifndef H5PYVOL_LIBPYTHON
#error "meson passes the path of the libpython the package was built for"
#endif

#define BRIDGE_FILE "h5pyvol_bridge.so" /* no "lib" prefix: HDF5 skips it when scanning */

static const void *bridge_class;

/* Directory this plugin was loaded from. */
static int plugin_dir(char *out, size_t size)
{
    Dl_info info;
    char    path[PATH_MAX];

    if (!dladdr((void *)&plugin_dir, &info) || !info.dli_fname)
        return -1;
    snprintf(path, sizeof path, "%s", info.dli_fname);
    snprintf(out, size, "%s", dirname(path));
    return 0;
}

static const void *load_bridge(void)
{
    char dir[PATH_MAX], bridge[PATH_MAX + sizeof BRIDGE_FILE + 1];
    void *handle;
    const void *(*get_class)(void);

    /* A Python host (or a C host that links libpython) already exports them. */
    if (!dlsym(RTLD_DEFAULT, "Py_IsInitialized")) {
        if (!dlopen(H5PYVOL_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL)) {
            fprintf(stderr, "H5PyVOL: cannot load %s: %s\n", H5PYVOL_LIBPYTHON, dlerror());
            return NULL;
        }
    }
    if (plugin_dir(dir, sizeof dir) < 0)
        return NULL;
    snprintf(bridge, sizeof bridge, "%s/%s", dir, BRIDGE_FILE);
    if (!(handle = dlopen(bridge, RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "H5PyVOL: cannot load %s: %s\n", bridge, dlerror());
        return NULL;
    }
    if (!(get_class = (const void *(*)(void))dlsym(handle, "h5pyvol_bridge_class"))) {
        fprintf(stderr, "H5PyVOL: %s has no h5pyvol_bridge_class\n", bridge);
        return NULL;
    }
    return get_class();
}

H5PL_type_t H5PLget_plugin_type(void)
{
    return H5PL_TYPE_VOL;
}

const void *H5PLget_plugin_info(void)
{
    if (!bridge_class)
        bridge_class = load_bridge();
    return bridge_class;
}
