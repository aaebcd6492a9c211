/* HDF5's version-1 calls refuse objects of non-native connectors.  After
 * such refusals, an ordinary error must still print (HDF5 1.14 drops a
 * reference on its H5E_VOL message with every refusal; the connector pays it
 * back).  Prints "v1_refusal_app: printed N" with the number of stack
 * entries the last error printed. */
#define H5_USE_110_API
#include <hdf5.h>
#include <stdio.h>

static int entries;

static herr_t count_entry(unsigned n, const H5E_error2_t *err, void *data)
{
    (void)n, (void)err, (void)data;
    entries++;
    return 0;
}

int main(void)
{
    hid_t      file, group;
    H5O_info1_t info;
    int        i;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if ((file = H5Fcreate("v1.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return 2;
    if ((group = H5Gcreate2(file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return 3;
    for (i = 0; i < 3; i++)
        if (H5Oget_info1(group, &info) >= 0) {
            printf("v1_refusal_app: H5Oget_info1 accepted a non-native object\n");
            return 4;
        }
    /* an ordinary failure afterwards: its stack must still print in full */
    if (H5Oopen(file, "no_such_object", H5P_DEFAULT) >= 0)
        return 5;
    if (H5Eprint2(H5E_DEFAULT, stderr) < 0) {
        printf("v1_refusal_app: H5Eprint2 failed\n");
        return 6;
    }
    if (H5Oopen(file, "no_such_object", H5P_DEFAULT) >= 0)
        return 7;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, count_entry, NULL);
    H5Gclose(group);
    H5Fclose(file);
    printf("v1_refusal_app: printed %d\n", entries);
    return 0;
}
