/* Selections and type conversion on both sides of H5Dread/H5Dwrite.
 * Prints one line per check; exits non-zero on the first mismatch. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#define N 10
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAIL: " __VA_ARGS__);                                      \
            printf("\n");                                                      \
            return 1;                                                          \
        }                                                                      \
    } while (0)

int main(void)
{
    hsize_t dims[2] = {N, N}, mdims[1];
    int     grid[N][N], r, c, i;
    hid_t   file, fspace, mspace, dset;

    for (r = 0; r < N; r++)
        for (c = 0; c < N; c++)
            grid[r][c] = r * N + c;
    file = H5Fcreate("sel.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    fspace = H5Screate_simple(2, dims, NULL);
    dset = H5Dcreate2(file, "grid", H5T_STD_I32LE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(dset >= 0, "create");
    CHECK(H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, grid) >= 0, "write all");

    { /* strided hyperslab in the file, dense 1-D memory */
        hsize_t start[2] = {1, 2}, stride[2] = {3, 4}, count[2] = {3, 2};
        int     out[6], expect[6] = {12, 16, 42, 46, 72, 76};
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, stride, count, NULL);
        mdims[0] = 6;
        mspace = H5Screate_simple(1, mdims, NULL);
        CHECK(H5Dread(dset, H5T_NATIVE_INT, mspace, fspace, H5P_DEFAULT, out) >= 0, "strided read");
        for (i = 0; i < 6; i++)
            CHECK(out[i] == expect[i], "strided out[%d] = %d, expected %d", i, out[i], expect[i]);
        H5Sclose(mspace);
        printf("ok strided hyperslab\n");
    }
    { /* union of blocks (irregular), read as double */
        hsize_t s1[2] = {0, 0}, c1[2] = {1, 3}, s2[2] = {2, 1}, c2[2] = {2, 1};
        double  out[5], expect[5] = {0, 1, 2, 21, 31};
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s1, NULL, c1, NULL);
        H5Sselect_hyperslab(fspace, H5S_SELECT_OR, s2, NULL, c2, NULL);
        mdims[0] = 5;
        mspace = H5Screate_simple(1, mdims, NULL);
        CHECK(H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, out) >= 0, "union read");
        for (i = 0; i < 5; i++)
            CHECK(out[i] == expect[i], "union out[%d] = %g, expected %g", i, out[i], expect[i]);
        H5Sclose(mspace);
        printf("ok union of hyperslabs as double\n");
    }
    { /* points in the given order */
        hsize_t pts[3][2] = {{9, 9}, {0, 5}, {4, 4}};
        long long out[3];
        H5Sselect_elements(fspace, H5S_SELECT_SET, 3, &pts[0][0]);
        mdims[0] = 3;
        mspace = H5Screate_simple(1, mdims, NULL);
        CHECK(H5Dread(dset, H5T_NATIVE_LLONG, mspace, fspace, H5P_DEFAULT, out) >= 0, "points read");
        CHECK(out[0] == 99 && out[1] == 5 && out[2] == 44, "points %lld %lld %lld", out[0], out[1], out[2]);
        H5Sclose(mspace);
        printf("ok point selection as int64\n");
    }
    { /* memory-side selection: scatter a column into every other slot */
        hsize_t start[2] = {0, 7}, count[2] = {N, 1}, mstart = 0, mstride = 2, mcount = N;
        short   buf[2 * N];
        memset(buf, 0xff, sizeof buf);
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        mdims[0] = 2 * N;
        mspace = H5Screate_simple(1, mdims, NULL);
        H5Sselect_hyperslab(mspace, H5S_SELECT_SET, &mstart, &mstride, &mcount, NULL);
        CHECK(H5Dread(dset, H5T_NATIVE_SHORT, mspace, fspace, H5P_DEFAULT, buf) >= 0, "scatter read");
        for (i = 0; i < N; i++) {
            CHECK(buf[2 * i] == i * N + 7, "scatter buf[%d] = %d", 2 * i, buf[2 * i]);
            CHECK(buf[2 * i + 1] == -1, "scatter touched buf[%d]", 2 * i + 1);
        }
        /* and gather it back from memory into row 0, as float in memory */
        {
            float   fbuf[2 * N];
            hsize_t rstart[2] = {0, 0}, rcount[2] = {1, N};
            int     row[N];
            for (i = 0; i < 2 * N; i++)
                fbuf[i] = (float)(1000 + i);
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, rstart, NULL, rcount, NULL);
            CHECK(H5Dwrite(dset, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, fbuf) >= 0, "gather write");
            CHECK(H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, grid) >= 0, "reread");
            for (i = 0; i < N; i++)
                row[i] = grid[0][i];
            for (i = 0; i < N; i++)
                CHECK(row[i] == 1000 + 2 * i, "gathered row[%d] = %d", i, row[i]);
            CHECK(grid[1][0] == 10, "row 1 changed");
        }
        H5Sclose(mspace);
        printf("ok memory-side selections with conversion\n");
    }
    H5Dclose(dset);
    H5Sclose(fspace);
    H5Fclose(file);
    return 0;
}
