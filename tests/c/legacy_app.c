/* The original H5PyVOL's example: a file, a dataset of 100 ints, written and
 * read back.  Exit 0 and "legacy_app: ok" when the data round-trips. */
#include <hdf5.h>
#include <stdio.h>

int main(void)
{
    hsize_t dims[1] = {100};
    int     data[100], back[100], i;
    hid_t   file, space, dset;

    for (i = 0; i < 100; i++)
        data[i] = i * i - 7;
    if ((file = H5Fcreate("legacy.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return 2;
    space = H5Screate_simple(1, dims, NULL);
    if ((dset = H5Dcreate2(file, "ints", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return 3;
    if (H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        return 4;
    if (H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) < 0)
        return 5;
    for (i = 0; i < 100; i++)
        if (back[i] != data[i]) {
            printf("legacy_app: back[%d] = %d, expected %d\n", i, back[i], data[i]);
            return 6;
        }
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
    printf("legacy_app: ok\n");
    return 0;
}
