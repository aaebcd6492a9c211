/* Exercises error paths.  Usage: errors_app STEP
 *   create  - H5Fcreate only
 *   write   - writes dataset "good", then dataset "bad" (which a test
 *             connector refuses), then reads "good" back
 *   iterate - H5Literate2 over the root group, then H5Fclose
 * HDF5 prints its error stack to stderr; the exit code says what happened. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

static herr_t count_link(hid_t group, const char *name, const H5L_info2_t *info, void *data)
{
    (void)group, (void)name, (void)info;
    ++*(int *)data;
    return 0;
}

int main(int argc, char **argv)
{
    const char *step = argc > 1 ? argv[1] : "create";
    hsize_t     dims[1] = {8};
    int         data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8], i;
    hid_t       file, space, good, bad;
    herr_t      status;

    file = H5Fcreate("errors.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        printf("errors_app: H5Fcreate failed\n");
        return 3;
    }
    if (!strcmp(step, "iterate")) {
        int n = 0;
        H5Gclose(H5Gcreate2(file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        status = H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, &n);
        printf("errors_app: iterate returned %d after %d links\n", (int)status, n);
        status = H5Lvisit2(file, H5_INDEX_NAME, H5_ITER_INC, count_link, &n);
        printf("errors_app: visit returned %d\n", (int)status);
        return H5Fclose(file) < 0 ? 7 : 0;
    }
    if (!strcmp(step, "create")) {
        H5Fclose(file);
        printf("errors_app: created\n");
        return 0;
    }
    space = H5Screate_simple(1, dims, NULL);
    good = H5Dcreate2(file, "good", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad = H5Dcreate2(file, "bad", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (good < 0 || bad < 0 || H5Dwrite(good, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        printf("errors_app: setup failed\n");
        return 4;
    }
    status = H5Dwrite(bad, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    printf("errors_app: write to bad returned %d\n", (int)status);
    if (H5Dread(good, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) < 0) {
        printf("errors_app: reading good failed\n");
        return 5;
    }
    for (i = 0; i < 8; i++)
        if (back[i] != data[i]) {
            printf("errors_app: good[%d] = %d\n", i, back[i]);
            return 6;
        }
    H5Dclose(good);
    H5Dclose(bad);
    H5Sclose(space);
    if (H5Fclose(file) < 0)
        return 7;
    printf("errors_app: good intact\n");
    return status < 0 ? 0 : 8;
}
