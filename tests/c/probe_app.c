/* A native HDF5 program with H5PyVOL merely present in HDF5_PLUGIN_PATH.
 * Its failed H5Fopen makes HDF5 ask every VOL plugin whether it can open the
 * file; H5PyVOL must answer without starting Python.  Then it writes and
 * reads a native file as usual. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <hdf5.h>
#include <stdio.h>

int main(void)
{
    int   (*is_initialized)(void);
    hid_t file;
    int   value = 42, back = 0;
    hid_t space, dset;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    file = H5Fopen("does-not-exist.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    printf("probe_app: open of a missing file returned %s\n", file < 0 ? "failure" : "success");
    is_initialized = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    printf("probe_app: python initialized: %d\n", is_initialized ? is_initialized() : 0);

    file = H5Fcreate("native.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate(H5S_SCALAR);
    dset = H5Dcreate2(file, "answer", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &back);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
    printf("probe_app: native file answer = %d\n", back);
    return back == 42 ? 0 : 1;
}
