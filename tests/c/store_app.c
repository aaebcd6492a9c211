/* An ordinary HDF5 program: "write FILE" makes datasets of several types
 * (big-endian int16, uint64, chunked+deflated float32, fixed and
 * variable-length strings, a compound), nested groups, attributes and
 * soft, hard and external links; "read FILE" opens it again and prints
 * everything it finds.  Run natively and through H5PyVOL, the printed text
 * must be the same. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                              \
    do {                                                                      \
        if ((x) < 0) {                                                        \
            fprintf(stderr, "failed: %s (line %d)\n", #x, __LINE__);          \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

typedef struct {
    int    id;
    double value;
    char   tag[8];
} record_t;

static hid_t fixed_string(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    return t;
}

static hid_t vlen_string(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static hid_t record_type(void)
{
    hid_t tag = fixed_string(8);
    hid_t t   = H5Tcreate(H5T_COMPOUND, sizeof(record_t));
    H5Tinsert(t, "id", HOFFSET(record_t, id), H5T_NATIVE_INT);
    H5Tinsert(t, "value", HOFFSET(record_t, value), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "tag", HOFFSET(record_t, tag), tag);
    H5Tclose(tag);
    return t;
}

static void put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, hid_t dcpl,
                const void *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset  = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(dset);
    CHECK(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    CHECK(H5Dclose(dset));
    H5Sclose(space);
}

static void put_attr(hid_t loc, const char *name, hid_t type, hid_t space, const void *data)
{
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(attr);
    CHECK(H5Awrite(attr, type, data));
    H5Aclose(attr);
}

static int write_file(const char *name)
{
    hid_t file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file);
    hid_t run = H5Gcreate2(file, "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sensors = H5Gcreate2(run, "sensors", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(run);
    CHECK(sensors);

    short   counts[2][3] = {{-3, 0, 7}, {1000, -32768, 32767}};
    hsize_t d23[2]       = {2, 3};
    put(sensors, "counts", H5T_STD_I16BE, H5T_NATIVE_SHORT, 2, d23, H5P_DEFAULT, counts);

    float   temps[100];
    hsize_t d100[1] = {100}, chunk[1] = {10};
    for (int i = 0; i < 100; i++)
        temps[i] = (float)(i * 0.25 - 10);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    H5Pset_deflate(dcpl, 4);
    put(sensors, "temps", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d100, dcpl, temps);
    H5Pclose(dcpl);

    unsigned long long ids[5] = {0, 1, 42, 9223372036854775813ULL, 18446744073709551615ULL};
    hsize_t            d5[1]  = {5};
    put(run, "ids", H5T_STD_U64LE, H5T_NATIVE_ULLONG, 1, d5, H5P_DEFAULT, ids);

    char    names[3][6] = {"alpha", "beta", "gamma"};
    hsize_t d3[1]       = {3};
    hid_t   s6          = fixed_string(6);
    put(run, "names", s6, s6, 1, d3, H5P_DEFAULT, names);

    const char *notes[2] = {"first light", "clouds \xc3\xa9t\xc3\xa9"};
    hsize_t     d2[1]    = {2};
    hid_t       vs       = vlen_string();
    put(run, "notes", vs, vs, 1, d2, H5P_DEFAULT, notes);

    record_t records[3] = {{1, 0.5, "a"}, {2, -1.25, "bb"}, {3, 1e10, "ccc"}};
    hid_t    rt         = record_type();
    put(run, "records", rt, rt, 1, d3, H5P_DEFAULT, records);

    hid_t       scalar  = H5Screate(H5S_SCALAR);
    int         version = 3;
    const char *label   = "night shift";
    put_attr(run, "version", H5T_NATIVE_INT, scalar, &version);
    put_attr(run, "label", vs, scalar, &label);
    hid_t temps_ds = H5Dopen2(sensors, "temps", H5P_DEFAULT);
    hid_t s5       = fixed_string(5);
    put_attr(temps_ds, "units", s5, scalar, "degC");
    double  range[2] = {-40, 85};
    hsize_t two[1]   = {2};
    hid_t   pair     = H5Screate_simple(1, two, NULL);
    put_attr(temps_ds, "range", H5T_NATIVE_DOUBLE, pair, range);

    CHECK(H5Lcreate_soft("/run/sensors/temps", file, "latest", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcreate_hard(sensors, "counts", run, "alias", H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Lcreate_external("calibration.h5", "/table", run, "calibration", H5P_DEFAULT, H5P_DEFAULT));

    H5Dclose(temps_ds);
    H5Sclose(pair);
    H5Sclose(scalar);
    H5Tclose(s5);
    H5Tclose(s6);
    H5Tclose(vs);
    H5Tclose(rt);
    H5Gclose(sensors);
    H5Gclose(run);
    CHECK(H5Fclose(file));
    printf("written\n");
    return 0;
}

static void print_attrs(hid_t obj)
{
    H5O_info2_t info;
    CHECK(H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS));
    for (hsize_t i = 0; i < info.num_attrs; i++) {
        hid_t attr = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        char  name[64];
        CHECK(attr);
        H5Aget_name(attr, sizeof name, name);
        hid_t type = H5Aget_type(attr);
        if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type)) {
            char *value;
            CHECK(H5Aread(attr, type, &value));
            printf("  @%s = \"%s\"\n", name, value);
            H5free_memory(value);
        }
        else if (H5Tget_class(type) == H5T_STRING) {
            char value[64] = {0};
            CHECK(H5Aread(attr, type, value));
            printf("  @%s = \"%s\"\n", name, value);
        }
        else if (H5Tget_class(type) == H5T_INTEGER) {
            int value;
            CHECK(H5Aread(attr, H5T_NATIVE_INT, &value));
            printf("  @%s = %d\n", name, value);
        }
        else {
            double  values[8];
            hid_t   space = H5Aget_space(attr);
            hssize_t n    = H5Sget_simple_extent_npoints(space);
            CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, values));
            printf("  @%s =", name);
            for (hssize_t k = 0; k < n; k++)
                printf(" %g", values[k]);
            printf("\n");
            H5Sclose(space);
        }
        H5Tclose(type);
        H5Aclose(attr);
    }
}

static void print_dataset(hid_t dset)
{
    hid_t    type  = H5Dget_type(dset);
    hid_t    space = H5Dget_space(dset);
    hssize_t n     = H5Sget_simple_extent_npoints(space);
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE) {
        unsigned long long *v = calloc((size_t)n, sizeof *v);
        CHECK(H5Dread(dset, H5T_NATIVE_ULLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("  u%zu:", 8 * H5Tget_size(type));
        for (hssize_t i = 0; i < n; i++)
            printf(" %llu", v[i]);
        free(v);
    }
    else if (cls == H5T_INTEGER) {
        long long *v = calloc((size_t)n, sizeof *v);
        CHECK(H5Dread(dset, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("  i%zu %s:", 8 * H5Tget_size(type), H5Tget_order(type) == H5T_ORDER_BE ? "BE" : "LE");
        for (hssize_t i = 0; i < n; i++)
            printf(" %lld", v[i]);
        free(v);
    }
    else if (cls == H5T_FLOAT) {
        double *v   = calloc((size_t)n, sizeof *v);
        double  sum = 0;
        hid_t   dcpl = H5Dget_create_plist(dset);
        CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        for (hssize_t i = 0; i < n; i++)
            sum += v[i];
        printf("  f%zu, %s, %d filter(s): first %g last %g sum %g", 8 * H5Tget_size(type),
               H5Pget_layout(dcpl) == H5D_CHUNKED ? "chunked" : "contiguous", H5Pget_nfilters(dcpl), v[0],
               v[n - 1], sum);
        H5Pclose(dcpl);
        free(v);
    }
    else if (cls == H5T_STRING && H5Tis_variable_str(type)) {
        char **v = calloc((size_t)n, sizeof *v);
        CHECK(H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("  vlen string:");
        for (hssize_t i = 0; i < n; i++)
            printf(" \"%s\"", v[i]);
        H5Dvlen_reclaim(type, space, H5P_DEFAULT, v);
        free(v);
    }
    else if (cls == H5T_STRING) {
        size_t size = H5Tget_size(type);
        char  *v    = calloc((size_t)n, size);
        CHECK(H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("  string(%zu):", size);
        for (hssize_t i = 0; i < n; i++)
            printf(" \"%.*s\"", (int)size, v + i * size);
        free(v);
    }
    else if (cls == H5T_COMPOUND) {
        record_t *v  = calloc((size_t)n, sizeof *v);
        hid_t     rt = record_type();
        CHECK(H5Dread(dset, rt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        printf("  compound of %d fields:", H5Tget_nmembers(type));
        for (hssize_t i = 0; i < n; i++)
            printf(" (%d, %g, \"%s\")", v[i].id, v[i].value, v[i].tag);
        H5Tclose(rt);
        free(v);
    }
    printf("\n");
    H5Sclose(space);
    H5Tclose(type);
}

static herr_t print_link(hid_t group, const char *name, const H5L_info2_t *info, void *data)
{
    const char *where = data;
    printf("%s/%s: ", where, name);
    if (info->type == H5L_TYPE_SOFT) {
        char value[256];
        H5Lget_val(group, name, value, sizeof value, H5P_DEFAULT);
        printf("soft -> %s\n", value);
    }
    else if (info->type == H5L_TYPE_EXTERNAL) {
        char        value[256];
        const char *file, *path;
        unsigned    flags;
        H5Lget_val(group, name, value, sizeof value, H5P_DEFAULT);
        H5Lunpack_elink_val(value, info->u.val_size, &flags, &file, &path);
        printf("external -> %s:%s\n", file, path);
    }
    else {
        hid_t       obj = H5Oopen(group, name, H5P_DEFAULT);
        H5O_info2_t oinfo;
        CHECK(obj);
        CHECK(H5Oget_info3(obj, &oinfo, H5O_INFO_BASIC));
        printf("%s, %u link(s)\n", oinfo.type == H5O_TYPE_GROUP ? "group" : "dataset", oinfo.rc);
        if (oinfo.type == H5O_TYPE_DATASET)
            print_dataset(obj);
        print_attrs(obj);
        if (oinfo.type == H5O_TYPE_GROUP) {
            char inner[512];
            snprintf(inner, sizeof inner, "%s/%s", where, name);
            CHECK(H5Literate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, print_link, inner));
        }
        H5Oclose(obj);
    }
    return 0;
}

static int read_file(const char *name)
{
    hid_t file = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file);
    CHECK(H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, print_link, ""));
    hid_t latest = H5Dopen2(file, "latest", H5P_DEFAULT);
    CHECK(latest);
    printf("through the soft link:");
    print_dataset(latest);
    H5Dclose(latest);
    CHECK(H5Fclose(file));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
        fprintf(stderr, "usage: %s write|read FILE\n", argv[0]);
        return 2;
    }
    return strcmp(argv[1], "write") == 0 ? write_file(argv[2]) : read_file(argv[2]);
}
