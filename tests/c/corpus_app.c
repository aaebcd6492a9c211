/*
 * Runs a corpus of bad inputs through H5PyVOL in one process, the way a C
 * program meets them: each case selects the connector with its own info
 * string (H5VLconnector_str_to_info + H5Pset_vol, what HDF5_VOL_CONNECTOR
 * does) and creates or opens one file.  The process must survive every
 * case, and a file written before the first case must read back intact
 * after the last.
 *
 *   corpus_app CASES   one case per line: <info hex> <file name hex> <op>
 *
 * op: create or open (the file only), or exercise (create it, a group, a
 * dataset written and read, an attribute, iteration, info, flush, close,
 * reopen and read again).  Prints, per case, "case N ok" or "case N
 * failed[ at <step>]: <every description on HDF5's error stack, innermost
 * first, joined by ' | '>", then "keep intact" or "keep damaged".
 */
#include "hdf5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_N 16

static hid_t failed_stack = H5I_INVALID_HID; /* the error stack of exercise()'s failed step */

static char *unhex(const char *hex)
{
    size_t n   = strlen(hex) / 2;
    char  *out = malloc(n + 1);

    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        sscanf(hex + 2 * i, "%2x", &byte);
        out[i] = (char)byte;
    }
    out[n] = '\0';
    return out;
}

static herr_t collect(unsigned n, const H5E_error2_t *e, void *data)
{
    FILE *out = data;

    (void)n;
    fprintf(out, " | %s", e->desc ? e->desc : "");
    return 0;
}

static hid_t fapl_for(const char *info)
{
    hid_t vol  = H5VLregister_connector_by_name("H5PyVOL", H5P_DEFAULT);
    void *data = NULL;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

    if (vol < 0 || H5VLconnector_str_to_info(info, vol, &data) < 0 || H5Pset_vol(fapl, vol, data) < 0) {
        H5Pclose(fapl);
        fapl = H5I_INVALID_HID;
    }
    if (data)
        H5VLfree_connector_info(vol, data);
    if (vol >= 0)
        H5VLclose(vol);
    return fapl;
}

static int write_keep(void)
{
    int     values[KEEP_N];
    hsize_t dims[1] = {KEEP_N};
    hid_t   fapl = fapl_for(""), file, space, dset;

    for (int i = 0; i < KEEP_N; i++)
        values[i] = i * i;
    file  = H5Fcreate("keep.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    space = H5Screate_simple(1, dims, NULL);
    dset  = H5Dcreate2(file, "squares", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(dset);
    H5Sclose(space);
    H5Pclose(fapl);
    return H5Fclose(file) < 0 ? -1 : 0;
}

static int keep_intact(void)
{
    int   values[KEEP_N], ok = 1;
    hid_t fapl = fapl_for(""), file, dset;

    file = H5Fopen("keep.h5", H5F_ACC_RDONLY, fapl);
    dset = H5Dopen2(file, "squares", H5P_DEFAULT);
    if (H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
        ok = 0;
    for (int i = 0; ok && i < KEEP_N; i++)
        ok = values[i] == i * i;
    H5Dclose(dset);
    H5Fclose(file);
    H5Pclose(fapl);
    return ok;
}

static herr_t count_link(hid_t g, const char *name, const H5L_info2_t *info, void *data)
{
    (void)g, (void)name, (void)info;
    ++*(int *)data;
    return 0;
}

/* One file's life through the usual calls; the name of the first step
 * that fails, NULL when all succeed.  Whatever is open is closed. */
static const char *exercise(const char *name, hid_t fapl)
{
    int         values[KEEP_N], back[KEEP_N], links = 0, attr = 42, attr_back = 0;
    hsize_t     dims[1] = {KEEP_N};
    hid_t       file = H5I_INVALID_HID, group = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t       dset = H5I_INVALID_HID, aspace = H5I_INVALID_HID, a = H5I_INVALID_HID, sub = H5I_INVALID_HID;
    const char *failed = NULL;
    H5O_info2_t oinfo;

    for (int i = 0; i < KEEP_N; i++)
        values[i] = 3 * i + 1;
#define STEP(what, call)                                                                                     \
    if (!failed && (call) < 0) {                                                                             \
        failed       = what;                                                                                 \
        failed_stack = H5Eget_current_stack();                                                               \
    }
    STEP("file create", file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl))
    STEP("group create", group = H5Gcreate2(file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT))
    STEP("subgroup create", sub = H5Gcreate2(group, "h", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT))
    STEP("subgroup close", H5Gclose(sub))
    STEP("space", space = H5Screate_simple(1, dims, NULL))
    STEP("dataset create", dset = H5Dcreate2(group, "d", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT,
                                             H5P_DEFAULT))
    STEP("dataset write", H5Dwrite(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values))
    STEP("dataset read", H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back))
    if (!failed && memcmp(values, back, sizeof values))
        failed = "dataset read (wrong values)"; /* no stack: printed empty */
    STEP("attribute space", aspace = H5Screate(H5S_SCALAR))
    STEP("attribute create", a = H5Acreate2(dset, "a", H5T_NATIVE_INT, aspace, H5P_DEFAULT, H5P_DEFAULT))
    STEP("attribute write", H5Awrite(a, H5T_NATIVE_INT, &attr))
    STEP("attribute close", H5Aclose(a))
    a = H5I_INVALID_HID;
    STEP("attribute open", a = H5Aopen(dset, "a", H5P_DEFAULT))
    STEP("attribute read", H5Aread(a, H5T_NATIVE_INT, &attr_back))
    if (!failed && attr_back != attr)
        failed = "attribute read (wrong value)";
    STEP("attribute storage size", H5Aget_storage_size(a) == sizeof attr ? 0 : -1)
    STEP("link iterate", H5Literate2(group, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, &links))
    if (!failed && links != 2)
        failed = "link iterate (wrong count)";
    links = 0;
    STEP("root iterate", H5Literate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, &links))
    if (!failed && links != 1)
        failed = "root iterate (wrong count)";
    STEP("link exists", H5Lexists(file, "g/d", H5P_DEFAULT) > 0 ? 0 : -1)
    STEP("object info", H5Oget_info3(dset, &oinfo, H5O_INFO_BASIC))
    STEP("dataset extent", H5Dget_storage_size(dset) > 0 ? 0 : -1)
    STEP("flush", H5Fflush(file, H5F_SCOPE_GLOBAL))
    /* closing is a step too: a connector's close may write; after a
     * failure whatever is still open is closed quietly */
    STEP("attribute close", H5Aclose(a))
    STEP("dataset close", H5Dclose(dset))
    STEP("group close", H5Gclose(group))
    if (failed) {
        H5E_BEGIN_TRY
        {
            H5Aclose(a);
            H5Dclose(dset);
            H5Gclose(group);
        }
        H5E_END_TRY
    }
    H5Sclose(aspace);
    H5Sclose(space);
    if (file >= 0 && H5Fclose(file) < 0 && !failed) {
        failed       = "file close";
        failed_stack = H5Eget_current_stack();
    }
    file = H5I_INVALID_HID;
    STEP("file open", file = H5Fopen(name, H5F_ACC_RDONLY, fapl))
    STEP("dataset open", dset = H5Dopen2(file, "g/d", H5P_DEFAULT))
    memset(back, 0, sizeof back);
    STEP("dataset read again", H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back))
    if (!failed && memcmp(values, back, sizeof values))
        failed = "dataset read again (wrong values)";
    H5E_BEGIN_TRY
    {
        H5Dclose(dset);
        H5Fclose(file);
    }
    H5E_END_TRY
#undef STEP
    return failed;
}

int main(int argc, char **argv)
{
    FILE  *cases;
    char   line[1 << 20];
    int    n = 0;
    hid_t  stack;

    if (argc != 2 || !(cases = fopen(argv[1], "r"))) {
        fprintf(stderr, "usage: corpus_app CASES\n");
        return 2;
    }
    if (write_keep() < 0) {
        printf("keep not written\n");
        return 3;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    while (fgets(line, sizeof line, cases)) {
        char        info_hex[sizeof line], name_hex[sizeof line], op[16];
        char       *info, *name;
        hid_t       fapl, file = H5I_INVALID_HID;
        const char *step = NULL; /* the step that failed ("" for create or open alone), NULL if none */

        if (sscanf(line, "%s %s %15s", info_hex, name_hex, op) != 3)
            continue;
        info = unhex(strcmp(info_hex, "-") ? info_hex : "");
        name = unhex(strcmp(name_hex, "-") ? name_hex : "");
        H5Eclear2(H5E_DEFAULT);
        fapl         = fapl_for(info);
        failed_stack = H5I_INVALID_HID;
        if (strcmp(op, "exercise") == 0)
            step = fapl >= 0 ? exercise(name, fapl) : "select the connector";
        else {
            if (fapl >= 0)
                file = strcmp(op, "open") == 0 ? H5Fopen(name, H5F_ACC_RDONLY, fapl)
                                               : H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
            if (file < 0)
                step = "";
        }
        /* taken before any other call: every API call starts a new stack */
        stack = failed_stack >= 0 ? failed_stack : H5Eget_current_stack();
        if (fapl >= 0)
            H5Pclose(fapl);
        if (file >= 0)
            H5Fclose(file);
        if (!step)
            printf("case %d ok\n", n);
        else {
            printf("case %d failed%s%s:", n, *step ? " at " : "", step);
            H5Ewalk2(stack, H5E_WALK_UPWARD, collect, stdout);
            printf("\n");
        }
        H5Eclose_stack(stack);
        fflush(stdout);
        free(info);
        free(name);
        n++;
    }
    fclose(cases);
    printf(keep_intact() ? "keep intact\n" : "keep damaged\n");
    return 0;
}
