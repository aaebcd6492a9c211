/* HDF5's SWMR C API, as a native SWMR program uses it:
 *   swmr_app write FILE   creates FILE (latest format), starts SWMR writing,
 *                         then 20 times: extends "rows" by one, writes it,
 *                         H5Dflush, waits for the reader's step
 *   swmr_app read FILE    opens FILE with H5F_ACC_SWMR_READ and H5Drefresh-es
 *                         until 20 rows are there, checking every row it sees
 * Prints what it saw; exits 1 on a wrong value or a failed call. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROWS 20
#define CHECK(x) do { if ((x) < 0) { fprintf(stderr, "failed: %s (line %d)\n", #x, __LINE__); return 1; } } while (0)

static int writer(const char *name)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {4};
    CHECK(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f);
    CHECK(H5Pset_chunk(dcpl, 1, chunk));
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t d = H5Dcreate2(f, "rows", H5T_NATIVE_INT, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d);
    CHECK(H5Fstart_swmr_write(f));
    unsigned intent = 0;
    CHECK(H5Fget_intent(f, &intent));
    printf("intent swmr_write=%d\n", (intent & H5F_ACC_SWMR_WRITE) != 0);
    fflush(stdout);
    for (int i = 0; i < ROWS; i++) {
        hsize_t size[1] = {(hsize_t)i + 1}, start[1] = {(hsize_t)i}, count[1] = {1};
        int value = 100 + i;
        CHECK(H5Dset_extent(d, size));
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, count, NULL);
        CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL));
        CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, &value));
        CHECK(H5Dflush(d));
        H5Sclose(fs), H5Sclose(ms);
        usleep(50000);
    }
    CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL));
    H5Dclose(d), H5Sclose(space), H5Pclose(dcpl), H5Pclose(fapl);
    CHECK(H5Fclose(f));
    printf("wrote %d rows\n", ROWS);
    return 0;
}

static int reader(const char *name)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
    hid_t f = -1, d = -1;
    /* until the writer has started SWMR (natively the open fails before;
     * through H5PyVOL the file may open before the dataset is flushed) */
    for (int tries = 0; tries < 200 && d < 0; tries++) {
        H5E_BEGIN_TRY {
            f = H5Fopen(name, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
            d = f < 0 ? -1 : H5Dopen2(f, "rows", H5P_DEFAULT);
            if (d < 0 && f >= 0)
                H5Fclose(f);
        } H5E_END_TRY;
        if (d < 0)
            usleep(50000);
    }
    CHECK(d);
    unsigned intent = 0;
    CHECK(H5Fget_intent(f, &intent));
    hsize_t seen = 0, last = 0;
    int refreshes = 0, growths = 0;
    while (seen < ROWS && refreshes < 2000) {
        CHECK(H5Drefresh(d));
        refreshes++;
        hid_t fs = H5Dget_space(d);
        hsize_t n = 0;
        H5Sget_simple_extent_dims(fs, &n, NULL);
        if (n < last) { fprintf(stderr, "extent shrank %llu -> %llu\n", (unsigned long long)last, (unsigned long long)n); return 1; }
        if (n > last) growths++;
        last = n;
        if (n > 0) {
            int values[ROWS];
            CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values));
            for (hsize_t i = 0; i < n; i++)
                if (values[i] != 100 + (int)i) { fprintf(stderr, "row %llu is %d\n", (unsigned long long)i, values[i]); return 1; }
        }
        seen = n;
        H5Sclose(fs);
        usleep(10000);
    }
    printf("intent swmr_read=%d rows=%llu grew %s\n", (intent & H5F_ACC_SWMR_READ) != 0, (unsigned long long)seen,
           growths > 1 ? "in steps" : "at once");
    H5Dclose(d), H5Pclose(fapl);
    CHECK(H5Fclose(f));
    return seen == ROWS ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s write|read FILE\n", argv[0]);
        return 2;
    }
    return strcmp(argv[1], "write") == 0 ? writer(argv[2]) : reader(argv[2]);
}
