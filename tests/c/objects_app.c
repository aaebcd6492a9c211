/* Files, groups, links and object queries.  Prints what it finds, so a test
 * can compare H5PyVOL's answers with native HDF5's. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

static herr_t print_link(hid_t group, const char *name, const H5L_info2_t *info, void *data)
{
    H5O_info2_t oinfo;
    (void)data;
    if (info->type == H5L_TYPE_HARD) {
        H5Oget_info_by_name3(group, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT);
        printf("  %s: hard -> %s\n", name, oinfo.type == H5O_TYPE_GROUP ? "group" : "dataset");
    }
    else
        printf("  %s: %s, value %zu bytes\n", name, info->type == H5L_TYPE_SOFT ? "soft" : "external",
               info->u.val_size);
    return 0;
}

static herr_t stop_at_second(hid_t group, const char *name, const H5L_info2_t *info, void *data)
{
    (void)group, (void)info;
    printf("  iter %d: %s\n", ++*(int *)data, name);
    return *(int *)data == 2;
}

int main(void)
{
    hid_t       file, g, anon, space, dset, other;
    hsize_t     dims[1] = {3}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {2}, newdims[1] = {7}, idx = 0;
    hid_t       dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    int         v[3] = {1, 2, 3}, back[7], i, count = 0, scalar = 9;
    char        name[64], val[64];
    H5G_info_t  ginfo;
    H5O_info2_t oinfo;
    unsigned    intent;
    const char *efile, *epath;
    unsigned    eflags;

    file = H5Fcreate("objects.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    other = H5Fcreate("other.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    g = H5Gcreate2(other, "target", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(other);

    H5Pset_create_intermediate_group(lcpl, 1);
    g = H5Gcreate2(file, "a/b/c", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Pset_chunk(dcpl, 1, chunk);
    space = H5Screate_simple(1, dims, maxdims);
    dset = H5Dcreate2(file, "a/data", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dset_extent(dset, newdims);
    H5Sclose(space);
    space = H5Dget_space(dset);
    H5Sget_simple_extent_dims(space, dims, maxdims);
    printf("extent %llu, max unlimited %d\n", (unsigned long long)dims[0], maxdims[0] == H5S_UNLIMITED);
    memset(back, 0, sizeof back);
    H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back);
    printf("after extend:");
    for (i = 0; i < 7; i++)
        printf(" %d", back[i]);
    printf("\n");
    H5Sclose(space);
    H5Dclose(dset);

    space = H5Screate(H5S_SCALAR);
    dset = H5Dcreate2(file, "scalar", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &scalar);
    scalar = 0;
    H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &scalar);
    printf("scalar %d\n", scalar);
    H5Dclose(dset);
    H5Sclose(space);
    space = H5Screate(H5S_NULL);
    dset = H5Dcreate2(file, "null", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    printf("null dataset created %d, space class %d\n", dset >= 0, (int)H5Sget_simple_extent_type(space));
    H5Dclose(dset);
    H5Sclose(space);

    anon = H5Gcreate_anon(file, H5P_DEFAULT, H5P_DEFAULT);
    printf("anonymous group name length %zd\n", H5Iget_name(anon, NULL, 0));
    H5Olink(anon, file, "named_later", H5P_DEFAULT, H5P_DEFAULT);
    H5Iget_name(anon, name, sizeof name);
    printf("after H5Olink: %s\n", name);
    H5Gclose(anon);

    H5Lcreate_soft("/a/data", file, "soft", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_soft("/nowhere", file, "dangling", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_external("other.h5", "/target", file, "ext", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_hard(file, "a/data", file, "hard_alias", H5P_DEFAULT, H5P_DEFAULT);
    printf("exists soft %d dangling-link %d dangling-object %d missing %d\n", H5Lexists(file, "soft", H5P_DEFAULT),
           H5Lexists(file, "dangling", H5P_DEFAULT), H5Oexists_by_name(file, "dangling", H5P_DEFAULT),
           H5Lexists(file, "missing", H5P_DEFAULT));
    H5Lget_val(file, "soft", val, sizeof val, H5P_DEFAULT);
    printf("soft value %s\n", val);
    H5Lget_val(file, "ext", val, sizeof val, H5P_DEFAULT);
    H5Lunpack_elink_val(val, sizeof val, &eflags, &efile, &epath);
    printf("external value %s %s\n", efile, epath);
    g = H5Gopen2(file, "ext", H5P_DEFAULT);
    H5Iget_name(g, name, sizeof name);
    printf("opened through external link: %d (%s)\n", g >= 0, name);
    H5Gclose(g);
    dset = H5Dopen2(file, "soft", H5P_DEFAULT);
    H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back);
    printf("read through soft link: %d %d %d\n", back[0], back[1], back[2]);
    H5Dclose(dset);

    printf("links of /, by name:\n");
    H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, print_link, NULL);
    printf("links of /, by name, decreasing, stopping:\n");
    H5Literate2(file, H5_INDEX_NAME, H5_ITER_DEC, &idx, stop_at_second, &count);
    printf("stopped at index %llu\n", (unsigned long long)idx);
    printf("visit of /a:\n");
    H5Lvisit2(file, H5_INDEX_NAME, H5_ITER_INC, print_link, NULL);

    H5Gget_info_by_name(file, "a", &ginfo, H5P_DEFAULT);
    printf("group a has %llu links\n", (unsigned long long)ginfo.nlinks);
    H5Lget_name_by_idx(file, "a", H5_INDEX_NAME, H5_ITER_INC, 1, name, sizeof name, H5P_DEFAULT);
    printf("second link of a by name: %s\n", name);
    H5Oget_info_by_name3(file, "a/b", &oinfo, H5O_INFO_BASIC, H5P_DEFAULT);
    printf("a/b is a group %d\n", oinfo.type == H5O_TYPE_GROUP);
    H5Ldelete(file, "hard_alias", H5P_DEFAULT);
    printf("after delete hard_alias exists %d, a/data exists %d\n", H5Lexists(file, "hard_alias", H5P_DEFAULT),
           H5Lexists(file, "a/data", H5P_DEFAULT));

    H5Fget_intent(file, &intent);
    H5Fget_name(file, name, sizeof name);
    g = H5Gopen2(file, "a", H5P_DEFAULT);
    printf("file %s intent rdwr %d, open objects %zd, groups %zd\n", name, (intent & H5F_ACC_RDWR) != 0,
           H5Fget_obj_count(file, H5F_OBJ_ALL), H5Fget_obj_count(file, H5F_OBJ_GROUP));
    H5Gclose(g);
    H5Fclose(file);
    printf("accessible objects.h5 %d, missing.h5 %d\n", H5Fis_accessible("objects.h5", H5P_DEFAULT),
           H5Fis_accessible("missing.h5", H5P_DEFAULT) > 0);
    H5Fdelete("other.h5", H5P_DEFAULT);
    printf("after H5Fdelete other.h5 accessible %d\n", H5Fis_accessible("other.h5", H5P_DEFAULT) > 0);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    return 0;
}
