/* References (H5R_ref_t) stored in a dataset and an attribute, read back after
 * reopening the file, then dereferenced.  Prints what it finds so a test can
 * compare with native HDF5. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    hid_t      file, space, dset, target, refs, attr, obj, region;
    hsize_t    dims[1] = {10}, three[1] = {3}, start[1] = {2}, count[1] = {4};
    int        data[10], i;
    H5R_ref_t  wref[3], rref[3];
    char       name[64];
    H5O_type_t type;

    for (i = 0; i < 10; i++)
        data[i] = i * 10;
    file = H5Fcreate("refs.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    space = H5Screate_simple(1, dims, NULL);
    target = H5Dcreate2(file, "target", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(target, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    attr = H5Acreate2(target, "units", H5T_NATIVE_INT, H5Screate(H5S_SCALAR), H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_INT, &data[3]);
    H5Aclose(attr);
    H5Gclose(H5Gcreate2(file, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    if (H5Rcreate_object(file, "group", H5P_DEFAULT, &wref[0]) < 0
        || H5Rcreate_region(file, "target", space, H5P_DEFAULT, &wref[1]) < 0
        || H5Rcreate_attr(file, "target", "units", H5P_DEFAULT, &wref[2]) < 0) {
        printf("refs_app: creating references failed\n");
        return 1;
    }
    H5Sclose(space);
    space = H5Screate_simple(1, three, NULL);
    refs = H5Dcreate2(file, "refs", H5T_STD_REF, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (H5Dwrite(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, wref) < 0) {
        printf("refs_app: writing references failed\n");
        return 1;
    }
    for (i = 0; i < 3; i++)
        H5Rdestroy(&wref[i]);
    H5Dclose(refs);
    H5Dclose(target);
    H5Sclose(space);
    H5Fclose(file);

    file = H5Fopen("refs.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    refs = H5Dopen2(file, "refs", H5P_DEFAULT);
    if (H5Dread(refs, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, rref) < 0) {
        printf("refs_app: reading references failed\n");
        return 1;
    }
    for (i = 0; i < 3; i++) {
        H5Rget_obj_name(&rref[i], H5P_DEFAULT, name, sizeof name);
        printf("ref %d: type %d, object %s", i, (int)H5Rget_type(&rref[i]), name);
        if (H5Rget_type(&rref[i]) == H5R_ATTR) {
            H5Rget_attr_name(&rref[i], name, sizeof name);
            printf(", attribute %s", name);
        }
        printf("\n");
    }
    obj = H5Ropen_object(&rref[0], H5P_DEFAULT, H5P_DEFAULT);
    H5Rget_obj_type3(&rref[0], H5P_DEFAULT, &type);
    printf("dereferenced object is a group: %d\n", obj >= 0 && type == H5O_TYPE_GROUP);
    H5Oclose(obj);
    obj = H5Ropen_object(&rref[1], H5P_DEFAULT, H5P_DEFAULT);
    region = H5Ropen_region(&rref[1], H5P_DEFAULT, H5P_DEFAULT);
    {
        int     sel[4] = {0};
        hid_t   mspace = H5Screate_simple(1, count, NULL);
        H5Dread(obj, H5T_NATIVE_INT, mspace, region, H5P_DEFAULT, sel);
        printf("region selects %lld elements: %d %d %d %d\n", (long long)H5Sget_select_npoints(region), sel[0],
               sel[1], sel[2], sel[3]);
        H5Sclose(mspace);
    }
    H5Sclose(region);
    H5Dclose(obj);
    attr = H5Ropen_attr(&rref[2], H5P_DEFAULT, H5P_DEFAULT);
    H5Aread(attr, H5T_NATIVE_INT, &i);
    printf("attribute through its reference: %d\n", i);
    H5Aclose(attr);
    for (i = 0; i < 3; i++)
        H5Rdestroy(&rref[i]);
    H5Dclose(refs);
    H5Fclose(file);
    return 0;
}
