/* Data transforms (H5Pset_data_transform) on write and read, and one HDF5
 * refuses (a compound memory type): prints what it reads and whether each
 * call succeeded, for comparison with native HDF5. */
#include <hdf5.h>
#include <stdio.h>

int main(void)
{
    hsize_t dims[1] = {6};
    int     in[6] = {0, 1, 2, 3, 4, 5}, plain[6];
    double  half[6];
    hid_t   file, space, dset, dxpl, cmpd, cdset;
    herr_t  rc;
    int     i;

    file = H5Fcreate("transform.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate_simple(1, dims, NULL);
    dset = H5Dcreate2(file, "ints", H5T_STD_I32BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_data_transform(dxpl, "2*x-1");
    printf("write: %d\n", H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, in) >= 0);
    printf("plain read: %d:", H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, plain) >= 0);
    for (i = 0; i < 6; i++)
        printf(" %d", plain[i]);
    H5Pset_data_transform(dxpl, "(x+3)/4");
    printf("\nread as double: %d:", H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl, half) >= 0);
    for (i = 0; i < 6; i++)
        printf(" %g", half[i]);
    printf("\nread as int: %d:", H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, plain) >= 0);
    for (i = 0; i < 6; i++)
        printf(" %d", plain[i]);
    cmpd = H5Tcreate(H5T_COMPOUND, sizeof(int));
    H5Tinsert(cmpd, "a", 0, H5T_NATIVE_INT);
    cdset = H5Dcreate2(file, "cmpd", cmpd, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5E_BEGIN_TRY { rc = H5Dwrite(cdset, cmpd, H5S_ALL, H5S_ALL, dxpl, in); } H5E_END_TRY
    printf("\ncompound with a transform: %s\n", rc < 0 ? "refused" : "written");
    H5Dclose(cdset);
    H5Tclose(cmpd);
    H5Pclose(dxpl);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
    return 0;
}
