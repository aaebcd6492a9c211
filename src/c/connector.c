/*
 * The H5VL_class_t table, the connector info callbacks and introspection.
 */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

/* ---- connector info: the configuration string ------------------------------ */
static void *info_copy(const void *info)
{
    const pv_info_t *src = info;
    pv_info_t       *dst = calloc(1, sizeof *dst);

    if (dst && src && src->config && !(dst->config = strdup(src->config))) {
        free(dst);
        dst = NULL;
    }
    return dst;
}

static herr_t info_cmp(int *cmp, const void *a, const void *b)
{
    const char *sa = a && ((const pv_info_t *)a)->config ? ((const pv_info_t *)a)->config : "";
    const char *sb = b && ((const pv_info_t *)b)->config ? ((const pv_info_t *)b)->config : "";

    *cmp = strcmp(sa, sb);
    return 0;
}

static herr_t info_free(void *info)
{
    if (info)
        free(((pv_info_t *)info)->config);
    free(info);
    return 0;
}

static herr_t info_to_str(const void *info, char **str)
{
    const char *s = info && ((const pv_info_t *)info)->config ? ((const pv_info_t *)info)->config : "";
    size_t      n = strlen(s) + 1;

    if (!(*str = H5allocate_memory(n, 0)))
        return -1;
    memcpy(*str, s, n);
    return 0;
}

/* HDF5_VOL_CONNECTOR="H5PyVOL module=m class=C key=value": parsed later, in
 * Python, so the probe path never needs it. */
static herr_t info_from_str(const char *str, void **info)
{
    pv_info_t *i = calloc(1, sizeof *i);

    if (!i || !(i->config = strdup(str ? str : ""))) {
        free(i);
        return -1;
    }
    *info = i;
    return 0;
}

/* ---- introspection ---------------------------------------------------------- */
/* HDF5 1.14's version-1 calls (H5Oget_info1, H5Ovisit1, H5Rdereference1, ...)
 * refuse non-native objects with H5E_VOL as the *minor* code, and clearing
 * that entry drops a reference on H5E_VOL as if it were a user's message
 * (H5E__clear_entries): after one such refusal H5E_VOL is closed, and every
 * later stack that names it fails to print, recursing in H5Eprint2 until
 * the stack overflows.  Each refusal first asks for our class (through
 * H5VL_object_is_native), so this is where the reference it will drop is
 * paid back, up to a ceiling. */
#define PV_E_VOL_REFS 1024

static void keep_e_vol_alive(void)
{
    if (H5Iget_ref(H5E_VOL) < PV_E_VOL_REFS)
        H5Iinc_ref(H5E_VOL);
}

static herr_t get_conn_cls(void *obj, H5VL_get_conn_lvl_t lvl, const H5VL_class_t **conn_cls)
{
    (void)obj, (void)lvl;
    keep_e_vol_alive();
    *conn_cls = &pv_class;
    return 0;
}

static herr_t get_cap_flags(const void *info, uint64_t *cap_flags)
{
    (void)info;
    *cap_flags = pv_class.cap_flags;
    return 0;
}

/* HDF5 asks after every file open whether we do native-only operations
 * (H5VL_NATIVE_FILE_POST_OPEN, ...): we do none. */
static herr_t opt_query(void *obj, H5VL_subclass_t cls, int opt_type, uint64_t *flags)
{
    (void)obj, (void)cls, (void)opt_type;
    *flags = 0;
    return 0;
}

herr_t pv_unsupported_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req)
{
    (void)obj, (void)dxpl_id, (void)req;
    pv_error(H5E_VOL, H5E_UNSUPPORTED, "optional operation %d is native-only; H5PyVOL does not support it",
             args ? args->op_type : -1);
    pv_error_flush();
    return -1;
}

/* The link and object classes' optional callbacks also get a location. */
static herr_t unsupported_optional_at(void *obj, const H5VL_loc_params_t *loc, H5VL_optional_args_t *args,
                                      hid_t dxpl_id, void **req)
{
    (void)loc;
    return pv_unsupported_optional(obj, args, dxpl_id, req);
}

static herr_t initialize(hid_t vipl_id)
{
    (void)vipl_id;
    return 0;
}

/* Python is not finalized: in a Python host it is not ours, and in a C host
 * numpy cannot be initialized twice if HDF5 registers us again.  The
 * connector gets to flush. */
static herr_t terminate(void)
{
    if (pv_python_started()) {
        PyGILState_STATE gil = PyGILState_Ensure();
        pv_call_void(H5E_VOL, "terminate", "()");
        PyGILState_Release(gil);
    }
    pv_error_flush();
    /* The error class stays registered: entries on an error stack may still
     * name it, and printing them after unregistering would read freed memory. */
    return 0;
}

/* clang-format off */
const H5VL_class_t pv_class = {
    .version      = H5VL_VERSION,
    .value        = H5PYVOL_VALUE,
    .name         = H5PYVOL_NAME,
    .conn_version = H5PYVOL_CONN_VERSION,
    /* What the bridge implements; h5_api_test skips what is not declared. */
    .cap_flags    = H5VL_CAP_FLAG_FILE_BASIC | H5VL_CAP_FLAG_FILE_MORE
                  | H5VL_CAP_FLAG_GROUP_BASIC | H5VL_CAP_FLAG_GROUP_MORE
                  | H5VL_CAP_FLAG_DATASET_BASIC | H5VL_CAP_FLAG_DATASET_MORE
                  | H5VL_CAP_FLAG_ATTR_BASIC | H5VL_CAP_FLAG_ATTR_MORE
                  | H5VL_CAP_FLAG_LINK_BASIC | H5VL_CAP_FLAG_LINK_MORE
                  | H5VL_CAP_FLAG_OBJECT_BASIC | H5VL_CAP_FLAG_OBJECT_MORE
                  | H5VL_CAP_FLAG_HARD_LINKS | H5VL_CAP_FLAG_SOFT_LINKS | H5VL_CAP_FLAG_EXTERNAL_LINKS
                  | H5VL_CAP_FLAG_ITERATE | H5VL_CAP_FLAG_BY_IDX | H5VL_CAP_FLAG_CREATION_ORDER
                  | H5VL_CAP_FLAG_GET_PLIST | H5VL_CAP_FLAG_FLUSH_REFRESH | H5VL_CAP_FLAG_STORAGE_SIZE
                  | H5VL_CAP_FLAG_FILL_VALUES | H5VL_CAP_FLAG_STORED_DATATYPES | H5VL_CAP_FLAG_UD_LINKS
                  | H5VL_CAP_FLAG_MOUNT | H5VL_CAP_FLAG_FILTERS | H5VL_CAP_FLAG_TRACK_TIMES
                  | H5VL_CAP_FLAG_REF_BASIC | H5VL_CAP_FLAG_REF_MORE | H5VL_CAP_FLAG_OBJ_REF | H5VL_CAP_FLAG_REG_REF,
    .initialize   = initialize,
    .terminate    = terminate,
    .info_cls = {
        .size     = sizeof(pv_info_t),
        .copy     = info_copy,
        .cmp      = info_cmp,
        .free     = info_free,
        .to_str   = info_to_str,
        .from_str = info_from_str,
    },
    .wrap_cls = {0},  /* not a pass-through connector */
    .attr_cls = {
        .create   = pv_attr_create,       /* H5Acreate2, H5Acreate_by_name */
        .open     = pv_attr_open,         /* H5Aopen, _by_name, _by_idx */
        .read     = pv_attr_read,         /* H5Aread */
        .write    = pv_attr_write,        /* H5Awrite */
        .get      = pv_attr_get,          /* H5Aget_info, _name, _space, _type, _create_plist, ... */
        .specific = pv_attr_specific,     /* H5Adelete, H5Aexists, H5Aiterate2, H5Arename */
        .optional = pv_unsupported_optional,
        .close    = pv_attr_close,        /* H5Aclose */
    },
    .dataset_cls = {
        .create   = pv_dataset_create,    /* H5Dcreate2, H5Dcreate_anon */
        .open     = pv_dataset_open,      /* H5Dopen2 */
        .read     = pv_dataset_read,      /* H5Dread, H5Dread_multi */
        .write    = pv_dataset_write,     /* H5Dwrite, H5Dwrite_multi */
        .get      = pv_dataset_get,       /* H5Dget_space, _type, _create_plist, ... */
        .specific = pv_dataset_specific,  /* H5Dset_extent, H5Dflush, H5Drefresh */
        .optional = pv_unsupported_optional,
        .close    = pv_dataset_close,     /* H5Dclose */
    },
    .datatype_cls = {
        .commit   = pv_datatype_commit,   /* H5Tcommit2, H5Tcommit_anon */
        .open     = pv_datatype_open,     /* H5Topen2 */
        .get      = pv_datatype_get,      /* H5Tget_create_plist; HDF5 rebuilding the type */
        .specific = pv_datatype_specific, /* H5Tflush, H5Trefresh */
        .optional = pv_unsupported_optional,
        .close    = pv_datatype_close,    /* H5Tclose of a committed datatype */
    },
    .file_cls = {
        .create   = pv_file_create,       /* H5Fcreate */
        .open     = pv_file_open,         /* H5Fopen */
        .get      = pv_file_get,          /* H5Fget_name, _intent, _obj_count, ... */
        .specific = pv_file_specific,     /* H5Fflush, H5Fis_accessible, H5Fdelete, ... */
        .optional = pv_file_optional,     /* H5Fget_filesize */
        .close    = pv_file_close,        /* H5Fclose */
    },
    .group_cls = {
        .create   = pv_group_create,      /* H5Gcreate2, H5Gcreate_anon */
        .open     = pv_group_open,        /* H5Gopen2 */
        .get      = pv_group_get,         /* H5Gget_info, H5Gget_create_plist */
        .specific = pv_group_specific,    /* H5Gflush, H5Grefresh */
        .optional = pv_group_optional,    /* H5Gget_objinfo */
        .close    = pv_group_close,       /* H5Gclose */
    },
    .link_cls = {
        .create   = pv_link_create,       /* H5Lcreate_hard/_soft/_external, H5Olink */
        .copy     = pv_link_copy,         /* H5Lcopy */
        .move     = pv_link_move,         /* H5Lmove */
        .get      = pv_link_get,          /* H5Lget_info2, H5Lget_val, H5Lget_name_by_idx */
        .specific = pv_link_specific,     /* H5Lexists, H5Ldelete, H5Literate2 */
        .optional = unsupported_optional_at,
    },
    .object_cls = {
        .open     = pv_object_open,       /* H5Oopen */
        .copy     = pv_object_copy,       /* H5Ocopy */
        .get      = pv_object_get,        /* H5Iget_name, H5Oget_info3, obj.file */
        .specific = pv_object_specific,   /* H5Oexists_by_name, H5Oflush, ... */
        .optional = unsupported_optional_at,
    },
    .introspect_cls = {
        .get_conn_cls  = get_conn_cls,
        .get_cap_flags = get_cap_flags,
        .opt_query     = opt_query,
    },
    .request_cls = {0},  /* synchronous only */
    .blob_cls    = {0},
    .token_cls   = {0},
    .optional    = pv_unsupported_optional,
};
/* clang-format on */

/* The loader (plugin.c) asks for the class by this name. */
__attribute__((visibility("default"))) const void *h5pyvol_bridge_class(void)
{
    return &pv_class;
}
