/* Bridge overhead: the per-call cost of small HDF5 calls, each in a loop.
 *
 *     bridge_bench FILE N
 *
 * Creates FILE with a 1-D dataset "x" of N int64 elements, chunked by 1024
 * (8 KiB chunks: a one-element write touches one small chunk in every
 * backend, so the loop measures the call, not rewriting a large chunk),
 * and a 4-element int64 attribute "a" on it.  Then times, with
 * CLOCK_MONOTONIC, N calls each of: one-element hyperslab H5Dwrite (element
 * i gets value(i)), one-element H5Dread (checked), H5Aread (checked),
 * H5Oget_info3, H5Lexists, and N/10 rounds of H5Fopen+H5Fclose (read-only).
 * Finally reopens FILE and checks every element with one whole read, so a
 * backend that loses writes across close fails here.  The hyperslab
 * selection is made inside the timed loop, as a program would.
 *
 * Prints one JSON line: microseconds per call for each, and peak RSS (MiB).
 * Exits nonzero, saying why on stderr, on any failed call or wrong value. */
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        if ((expr) < 0) {                                                      \
            fprintf(stderr, "bridge_bench: %s failed (line %d)\n", #expr,      \
                    __LINE__);                                                 \
            exit(2);                                                           \
        }                                                                      \
    } while (0)

static int64_t value(hsize_t i) { return (int64_t)i * 3 + 1; } /* never the fill value 0 */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Peak RSS in MiB: VmHWM, this program's own high-water mark.  Not
 * getrusage's ru_maxrss: Linux carries the spawning process's peak across
 * exec into it, so a child of a 300 MiB Python driver would report 300 MiB. */
static double peak_rss_mib(void)
{
    char line[256];
    double kib = -1;
    FILE *status = fopen("/proc/self/status", "r");
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = atof(line + 6);
    if (status)
        fclose(status);
    return kib / 1024;
}

static void mismatch(const char *what, hsize_t i, int64_t got, int64_t want)
{
    fprintf(stderr, "bridge_bench: %s: element %llu is %" PRId64 ", expected %" PRId64 "\n", what,
            (unsigned long long)i, got, want);
    exit(3);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE N\n", argv[0]);
        return 1;
    }
    const char *name = argv[1];
    hsize_t n = strtoull(argv[2], NULL, 10), opens = n / 10 ? n / 10 : 1;
    hsize_t dims = n, chunk = n < 1024 ? n : 1024, one = 1, adims = 4;
    int64_t attr[4] = {7, -7, INT64_MAX, INT64_MIN}, got4[4], x;
    double t, us[6];

    hid_t file, space, dcpl, dset, aspace, att, mspace, fspace;
    CHECK(file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(space = H5Screate_simple(1, &dims, NULL));
    CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    CHECK(H5Pset_chunk(dcpl, 1, &chunk));
    CHECK(dset = H5Dcreate2(file, "x", H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    CHECK(aspace = H5Screate_simple(1, &adims, NULL));
    CHECK(att = H5Acreate2(dset, "a", H5T_STD_I64LE, aspace, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(H5Awrite(att, H5T_NATIVE_INT64, attr));
    CHECK(mspace = H5Screate_simple(1, &one, NULL));
    CHECK(fspace = H5Dget_space(dset));

    t = now();
    for (hsize_t i = 0; i < n; i++) {
        x = value(i);
        CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &i, NULL, &one, NULL));
        CHECK(H5Dwrite(dset, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, &x));
    }
    us[0] = (now() - t) / n * 1e6;

    t = now();
    for (hsize_t i = 0; i < n; i++) {
        CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &i, NULL, &one, NULL));
        CHECK(H5Dread(dset, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, &x));
        if (x != value(i))
            mismatch("H5Dread", i, x, value(i));
    }
    us[1] = (now() - t) / n * 1e6;

    t = now();
    for (hsize_t i = 0; i < n; i++) {
        got4[i % 4] = 0; /* so a read that writes nothing is caught */
        CHECK(H5Aread(att, H5T_NATIVE_INT64, got4));
        if (got4[i % 4] != attr[i % 4])
            mismatch("H5Aread", i % 4, got4[i % 4], attr[i % 4]);
    }
    us[2] = (now() - t) / n * 1e6;

    t = now();
    for (hsize_t i = 0; i < n; i++) {
        H5O_info2_t info;
        info.type = H5O_TYPE_UNKNOWN;
        CHECK(H5Oget_info3(dset, &info, H5O_INFO_BASIC));
        if (info.type != H5O_TYPE_DATASET)
            mismatch("H5Oget_info3 type", i, info.type, H5O_TYPE_DATASET);
    }
    us[3] = (now() - t) / n * 1e6;

    t = now();
    for (hsize_t i = 0; i < n; i++) {
        htri_t exists = H5Lexists(file, "x", H5P_DEFAULT);
        if (exists != 1)
            mismatch("H5Lexists", i, exists, 1);
    }
    us[4] = (now() - t) / n * 1e6;

    CHECK(H5Sclose(fspace));
    CHECK(H5Sclose(mspace));
    CHECK(H5Aclose(att));
    CHECK(H5Sclose(aspace));
    CHECK(H5Dclose(dset));
    CHECK(H5Pclose(dcpl));
    CHECK(H5Sclose(space));
    CHECK(H5Fclose(file));

    t = now();
    for (hsize_t i = 0; i < opens; i++) {
        CHECK(file = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
        CHECK(H5Fclose(file));
    }
    us[5] = (now() - t) / opens * 1e6;

    /* everything written must have survived the close: one whole read */
    int64_t *all = malloc(n * sizeof *all);
    if (!all)
        return 4;
    CHECK(file = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT));
    CHECK(dset = H5Dopen2(file, "x", H5P_DEFAULT));
    CHECK(H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
    for (hsize_t i = 0; i < n; i++)
        if (all[i] != value(i))
            mismatch("whole read after reopen", i, all[i], value(i));
    CHECK(H5Dclose(dset));
    CHECK(H5Fclose(file));
    free(all);

    printf("{\"H5Dwrite\": %.3f, \"H5Dread\": %.3f, \"H5Aread\": %.3f, \"H5Oget_info3\": %.3f, "
           "\"H5Lexists\": %.3f, \"H5Fopen+H5Fclose\": %.3f, \"rss_mib\": %.1f}\n",
           us[0], us[1], us[2], us[3], us[4], us[5], peak_rss_mib());
    return 0;
}
