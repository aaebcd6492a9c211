/* An ordinary HDF5 program: nothing in it knows about H5PyVOL.
 * Writes a group and two datasets, closes the file, reopens it and checks
 * what it reads back.  Usage: c_app FILE */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#define ROWS 4
#define COLS 6

static int fail(const char *what)
{
    fprintf(stderr, "c_app: %s failed\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "c_app.h5";
    hsize_t     dims[2] = {ROWS, COLS};
    int         data[ROWS][COLS], back[ROWS][COLS];
    double      temps[COLS] = {12.5, 13.0, 14.25, 15.5, 16.0, 17.75}, temps_back[COLS];
    hid_t       file, group, space, dset;
    int         r, c;

    for (r = 0; r < ROWS; r++)
        for (c = 0; c < COLS; c++)
            data[r][c] = r * 100 + c;

    if ((file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return fail("H5Fcreate");
    group = H5Gcreate2(file, "sensors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate_simple(2, dims, NULL);
    dset = H5Dcreate2(file, "grid", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (group < 0 || dset < 0 || H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        return fail("writing /grid");
    H5Dclose(dset);
    H5Sclose(space);
    space = H5Screate_simple(1, &dims[1], NULL);
    dset = H5Dcreate2(group, "temperature", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dset < 0 || H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, temps) < 0)
        return fail("writing /sensors/temperature");
    H5Dclose(dset);
    H5Sclose(space);
    H5Gclose(group);
    if (H5Fclose(file) < 0)
        return fail("H5Fclose");

    if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return fail("H5Fopen");
    dset = H5Dopen2(file, "grid", H5P_DEFAULT);
    if (dset < 0 || H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) < 0)
        return fail("reading /grid");
    H5Dclose(dset);
    dset = H5Dopen2(file, "/sensors/temperature", H5P_DEFAULT);
    if (dset < 0 || H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, temps_back) < 0)
        return fail("reading /sensors/temperature");
    H5Dclose(dset);
    H5Fclose(file);

    for (r = 0; r < ROWS; r++)
        for (c = 0; c < COLS; c++)
            if (back[r][c] != data[r][c]) {
                fprintf(stderr, "c_app: grid[%d][%d] = %d, expected %d\n", r, c, back[r][c], data[r][c]);
                return 1;
            }
    for (c = 0; c < COLS; c++)
        if (temps_back[c] != temps[c])
            return fail("comparing temperature");
    printf("c_app: wrote and read back %s: grid %dx%d (grid[3][5] = %d), sensors/temperature[5] = %.2f\n",
           path, ROWS, COLS, back[3][5], temps_back[5]);
    return 0;
}
