/* Link storage types (H5Gget_info) across processes: "write" makes a file
 * for the latest format and one for the earliest, grows and shrinks a
 * group across its phase change; "read" and "append" reopen them. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

static const char *kind(hid_t loc, const char *name)
{
    H5G_info_t info;

    if (H5Gget_info_by_name(loc, name, &info, H5P_DEFAULT) < 0)
        return "error";
    return info.storage_type == H5G_STORAGE_TYPE_COMPACT ? "compact"
           : info.storage_type == H5G_STORAGE_TYPE_DENSE ? "dense"
           : info.storage_type == H5G_STORAGE_TYPE_SYMBOL_TABLE ? "symbol table" : "unknown";
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "write";
    const char *files[2] = {"latest.h5", "earliest.h5"};
    char        name[16];
    int         f, i;

    for (f = 0; f < 2; f++) {
        hid_t file, g;
        if (!strcmp(mode, "write")) {
            hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), gcpl = H5Pcreate(H5P_GROUP_CREATE);
            if (f == 0)
                H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
            H5Pset_link_phase_change(gcpl, 4, 2);
            file = H5Fcreate(files[f], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
            g = H5Gcreate2(file, "g", H5P_DEFAULT, gcpl, H5P_DEFAULT);
            for (i = 0; i < 6; i++) {
                snprintf(name, sizeof name, "c%d", i);
                H5Gclose(H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
            }
            printf("%s: 6 links %s", files[f], kind(file, "g"));
            for (i = 0; i < 3; i++) {
                snprintf(name, sizeof name, "c%d", i);
                H5Ldelete(g, name, H5P_DEFAULT);
            }
            printf(", 3 links %s, root %s\n", kind(file, "g"), kind(file, "/"));
            H5Pclose(fapl);
            H5Pclose(gcpl);
        }
        else {
            file = H5Fopen(files[f], !strcmp(mode, "read") ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
            g = H5Gopen2(file, "g", H5P_DEFAULT);
            printf("%s reopened: g %s, root %s", files[f], kind(file, "g"), kind(file, "/"));
            if (!strcmp(mode, "append")) {
                H5Ldelete(g, "c3", H5P_DEFAULT);
                H5Gclose(H5Gcreate2(file, "new", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
                printf(", 2 links %s, new group %s", kind(file, "g"), kind(file, "new"));
            }
            printf("\n");
        }
        H5Gclose(g);
        H5Fclose(file);
    }
    return 0;
}
