/* The H5F callbacks. */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

/* The connector info string a file access property list carries. */
static PyObject *fapl_config(hid_t fapl_id)
{
    void     *info = NULL;
    hid_t     vol_id = H5I_INVALID_HID;
    PyObject *res;

    if (fapl_id >= 0 && H5Pget_vol_id(fapl_id, &vol_id) >= 0)
        H5Pget_vol_info(fapl_id, &info);
    res = pv_str_or_none(info ? ((pv_info_t *)info)->config : NULL);
    if (info)
        H5VLfree_connector_info(vol_id, info);
    if (vol_id >= 0)
        H5VLclose(vol_id);
    return res;
}

/* A copy of a file access list for Python to keep as long as it likes:
 * without a driver registered outside HDF5 (h5py's fileobj driver holds
 * Python state, which must not outlive the interpreter in a list HDF5
 * closes at exit).  Drivers do not apply here anyway. */
hid_t pv_fapl_copy(hid_t fapl)
{
    hid_t copy = H5Pcopy(fapl), driver = copy >= 0 ? H5Pget_driver(copy) : -1;

    if (copy >= 0 && driver != H5FD_SEC2 && driver != H5FD_CORE && driver != H5FD_STDIO && driver != H5FD_FAMILY
        && driver != H5FD_LOG && driver != H5FD_MULTI && H5Pset_fapl_sec2(copy) < 0) {
        H5Pclose(copy);
        copy = H5I_INVALID_HID;
    }
    return copy;
}

/* H5Fget_access_plist answers with the list the file was opened with
 * (cache sizes, library version bounds, drivers' settings), as natively. */
static void keep_fapl(pv_obj_t *file, hid_t fapl_id)
{
    hid_t copy;

    if (!file)
        return;
    file->apl = H5Pcopy(fapl_id == H5P_DEFAULT ? H5P_FILE_ACCESS_DEFAULT : fapl_id); /* closed with the handle */
    /* the file's other handles (obj.file) and files its external links
     * open answer with it too */
    if (file->apl >= 0 && (copy = pv_fapl_copy(file->apl)) >= 0)
        pv_call_void(H5E_FILE, "file_keep_fapl", "(ON)", file->py, pv_plist_capsule(copy));
}

void *pv_file_create(const char *name, unsigned flags, hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *res;
    (void)dxpl_id, (void)req;

    PV_ENTER(NULL);
    res = pv_obj_new(pv_call(H5E_FILE, "file_create", "(NINNLNNi)", pv_str_or_none(name), flags,
                             fapl_config(fapl_id), pv_plist_to_py(fcpl_id), (long long)fapl_id,
                             pv_crt_order_to_py(fcpl_id), pv_link_phase_to_py(fcpl_id), pv_libver_low(fapl_id)),
                     H5I_FILE);
    keep_fapl(res, fapl_id);
    PV_LEAVE();
    return res;
}

void *pv_file_open(const char *name, unsigned flags, hid_t fapl_id, hid_t dxpl_id, void **req)
{
    pv_obj_t *res;
    (void)dxpl_id, (void)req;

    PV_ENTER(NULL);
    res = pv_obj_new(pv_call(H5E_FILE, "file_open", "(NINLi)", pv_str_or_none(name), flags,
                             fapl_config(fapl_id), (long long)fapl_id, pv_libver_low(fapl_id)),
                     H5I_FILE);
    keep_fapl(res, fapl_id);
    PV_LEAVE();
    return res;
}

/* A file access property list that selects this connector with the file's
 * info: a copy of the one it was opened with, or a new one. */
static hid_t make_fapl(PyObject *config, hid_t opened_with)
{
    hid_t     fapl = opened_with >= 0 ? H5Pcopy(opened_with) : H5Pcreate(H5P_FILE_ACCESS);
    hid_t     vol_id = H5VLget_connector_id_by_name(H5PYVOL_NAME);
    pv_info_t info = {NULL};

    if (config != Py_None)
        info.config = (char *)PyUnicode_AsUTF8(config);
    if (fapl < 0 || vol_id < 0 || H5Pset_vol(fapl, vol_id, info.config ? &info : NULL) < 0) {
        pv_error(H5E_PLIST, H5E_CANTSET, "cannot build the file access property list");
        if (fapl >= 0)
            H5Pclose(fapl);
        fapl = H5I_INVALID_HID;
    }
    if (vol_id >= 0)
        H5VLclose(vol_id);
    return fapl;
}

typedef struct {
    PyObject *file;  /* the Python file the ids must belong to */
    unsigned long instance; /* for H5F_OBJ_LOCAL: the file handle's instance, else 0 */
    unsigned  types; /* H5F_OBJ_* */
    size_t    max, count;
    hid_t    *ids;   /* NULL when only counting */
    int       failed;
} obj_scan_t;

/* H5Iiterate callback: is this id one of ours, on the same file? */
static herr_t scan_id(hid_t id, void *udata)
{
    obj_scan_t *scan = udata;
    char        name[sizeof H5PYVOL_NAME + 1];
    pv_obj_t   *obj;
    PyObject   *same;

    if (scan->ids && scan->count >= scan->max)
        return 1;
    /* transient datatypes belong to no file (and asking would print errors) */
    if (H5Iget_type(id) == H5I_DATATYPE && H5Tcommitted(id) <= 0)
        return 0;
    if (H5VLget_connector_name(id, name, sizeof name) < 0 || strcmp(name, H5PYVOL_NAME) != 0)
        return 0;
    if (!(obj = H5VLobject(id)))
        return 0;
    if (scan->instance && obj->file_instance != scan->instance)
        return 0;
    if (!(same = pv_call(H5E_FILE, "same_file", "(OO)", obj->py, scan->file))) {
        scan->failed = 1;
        return -1;
    }
    if (PyObject_IsTrue(same) > 0) {
        if (scan->ids)
            scan->ids[scan->count] = id;
        scan->count++;
    }
    Py_DECREF(same);
    return 0;
}

/* H5Fget_obj_count / H5Fget_obj_ids for one file. */
static herr_t scan_objects(pv_obj_t *file, unsigned types, size_t max, hid_t *ids, size_t *count)
{
    static const struct { unsigned flag; H5I_type_t type; } kinds[] = {
        {H5F_OBJ_FILE, H5I_FILE}, {H5F_OBJ_DATASET, H5I_DATASET}, {H5F_OBJ_GROUP, H5I_GROUP},
        {H5F_OBJ_DATATYPE, H5I_DATATYPE}, {H5F_OBJ_ATTR, H5I_ATTR}};
    obj_scan_t scan = {file->py, (types & H5F_OBJ_LOCAL) ? file->file_instance : 0, types, max, 0, ids, 0};
    size_t     i;

    for (i = 0; i < sizeof kinds / sizeof kinds[0] && !scan.failed; i++)
        if (types & kinds[i].flag)
            H5Iiterate(kinds[i].type, scan_id, &scan);
    *count = scan.count;
    return scan.failed ? -1 : 0;
}

herr_t pv_file_get(void *obj, H5VL_file_get_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_FILE_GET_CONT_INFO: /* container info, used by H5R */
            args->args.get_cont_info.info->feature_flags = 0;
            args->args.get_cont_info.info->token_size = sizeof(H5O_token_t);
            args->args.get_cont_info.info->blob_id_size = sizeof(H5O_token_t);
            ret = 0;
            break;
        case H5VL_FILE_GET_FAPL: /* H5Fget_access_plist */
            if ((r = pv_call(H5E_FILE, "file_config", "(O)", o->py))) {
                /* a file opened through an external link: the list it was opened with */
                PyObject *through_link = o->apl < 0 ? pv_call(H5E_FILE, "file_fapl", "(O)", o->py) : NULL;
                hid_t     base = o->apl >= 0 ? o->apl : through_link ? pv_plist_from_capsule(through_link) : -1;

                ret = (args->args.get_fapl.fapl_id = make_fapl(r, base)) < 0 ? -1 : 0;
                Py_XDECREF(through_link);
            }
            break;
        case H5VL_FILE_GET_FCPL: /* H5Fget_create_plist */
            if ((r = pv_call(H5E_FILE, "file_fcpl", "(O)", o->py))) {
                args->args.get_fcpl.fcpl_id = pv_plist_from_py(r, H5P_FILE_CREATE);
                ret = args->args.get_fcpl.fcpl_id < 0 ? -1 : 0;
                if (ret < 0)
                    pv_error_from_python(H5E_FILE, "file_fcpl");
            }
            break;
        case H5VL_FILE_GET_FILENO: /* H5Fget_fileno */
            if ((r = pv_call(H5E_FILE, "file_number", "(O)", o->py))) {
                *args->args.get_fileno.fileno = PyLong_AsUnsignedLong(r);
                ret = 0;
            }
            break;
        case H5VL_FILE_GET_INTENT: /* H5Fget_intent */
            if ((r = pv_call(H5E_FILE, "file_intent", "(O)", o->py))) {
                *args->args.get_intent.flags = (unsigned)PyLong_AsUnsignedLong(r);
                ret = 0;
            }
            break;
        case H5VL_FILE_GET_NAME: /* H5Fget_name (obj may be any object in the file) */
            if ((r = pv_call(H5E_FILE, "file_name", "(O)", o->py))) {
                if (pv_copy_name(r, args->args.get_name.buf, args->args.get_name.buf_size,
                                 args->args.get_name.file_name_len) == 0)
                    ret = 0;
                else
                    pv_error_from_python(H5E_FILE, "file_name");
            }
            break;
        case H5VL_FILE_GET_OBJ_COUNT: /* H5Fget_obj_count */
            ret = scan_objects(o, args->args.get_obj_count.types, 0, NULL, args->args.get_obj_count.count);
            break;
        case H5VL_FILE_GET_OBJ_IDS: /* H5Fget_obj_ids */
            ret = scan_objects(o, args->args.get_obj_ids.types, args->args.get_obj_ids.max_objs,
                               args->args.get_obj_ids.oid_list, args->args.get_obj_ids.count);
            break;
        default:
            pv_error(H5E_FILE, H5E_UNSUPPORTED, "file get operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

/* Whether a probe may start Python: HDF5 asks every VOL plugin in
 * HDF5_PLUGIN_PATH whether it can open a file another connector failed to
 * open.  Only answer for real when this process already uses H5PyVOL or
 * selected it as the default connector. */
static int may_answer_probe(void)
{
    const char *env = getenv("HDF5_VOL_CONNECTOR");

    if (pv_python_started())
        return 1;
    return env && !strncmp(env, H5PYVOL_NAME, strlen(H5PYVOL_NAME))
           && (env[strlen(H5PYVOL_NAME)] == '\0' || env[strlen(H5PYVOL_NAME)] == ' ');
}

/* Native-only file operations; of them two have a meaning here:
 * H5Fget_filesize (the bytes the file's store holds) and H5Fstart_swmr_write
 * (readers in other processes see each flush; README, "Many processes"). */
herr_t pv_file_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r;
    herr_t    ret = -1;

    if (args->op_type == H5VL_NATIVE_FILE_START_SWMR_WRITE) { /* H5Fstart_swmr_write */
        PV_ENTER(-1);
        ret = pv_call_void(H5E_FILE, "file_start_swmr_write", "(O)", o->py);
        PV_LEAVE();
        return ret;
    }
    if (args->op_type != H5VL_NATIVE_FILE_GET_SIZE)
        return pv_unsupported_optional(obj, args, dxpl_id, req);
    PV_ENTER(-1);
    if ((r = pv_call(H5E_FILE, "file_size", "(O)", o->py))) {
        unsigned long long size = PyLong_AsUnsignedLongLong(r);
        if (PyErr_Occurred())
            pv_error_from_python(H5E_FILE, "file_size");
        else {
            *((H5VL_native_file_optional_args_t *)args->args)->get_size.size = (hsize_t)size;
            ret = 0;
        }
        Py_DECREF(r);
    }
    PV_LEAVE();
    return ret;
}

herr_t pv_file_specific(void *obj, H5VL_file_specific_args_t *args, hid_t dxpl_id, void **req)
{
    pv_obj_t *o = obj;
    PyObject *r = NULL;
    herr_t    ret = -1;
    (void)dxpl_id, (void)req;

    if (args->op_type == H5VL_FILE_IS_ACCESSIBLE && !may_answer_probe()) {
        *args->args.is_accessible.accessible = 0;
        return 0;
    }
    PV_ENTER(-1);
    switch (args->op_type) {
        case H5VL_FILE_FLUSH: /* H5Fflush; obj is any object of the file */
            ret = pv_call_void(H5E_FILE, "file_flush", "(O)", o->py);
            break;
        case H5VL_FILE_REOPEN: /* H5Freopen */
            *args->args.reopen.file = pv_obj_new(pv_call(H5E_FILE, "file_reopen", "(O)", o->py), H5I_FILE);
            ret = *args->args.reopen.file ? 0 : -1;
            break;
        case H5VL_FILE_IS_ACCESSIBLE: /* H5Fis_accessible */
            if ((r = pv_call(H5E_FILE, "file_is_accessible", "(NN)", pv_str_or_none(args->args.is_accessible.filename),
                             fapl_config(args->args.is_accessible.fapl_id)))) {
                *args->args.is_accessible.accessible = PyObject_IsTrue(r) > 0;
                ret = 0;
            }
            break;
        case H5VL_FILE_DELETE: /* H5Fdelete */
            ret = pv_call_void(H5E_FILE, "file_delete", "(NN)", pv_str_or_none(args->args.del.filename),
                               fapl_config(args->args.del.fapl_id));
            break;
        case H5VL_FILE_IS_EQUAL: /* H5Fget_fileno comparisons, H5Ocopy */
            if ((r = pv_call(H5E_FILE, "same_file", "(OO)", o->py, ((pv_obj_t *)args->args.is_equal.obj2)->py))) {
                *args->args.is_equal.same_file = PyObject_IsTrue(r) > 0;
                ret = 0;
            }
            break;
        default:
            pv_error(H5E_FILE, H5E_UNSUPPORTED, "file operation %d is not supported", (int)args->op_type);
    }
    Py_XDECREF(r);
    PV_LEAVE();
    return ret;
}

herr_t pv_file_close(void *obj, hid_t dxpl_id, void **req)
{
    (void)dxpl_id, (void)req;
    return pv_close_handle(obj, H5E_FILE, "file_close");
}
