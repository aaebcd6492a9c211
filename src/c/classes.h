/* The VOL callbacks, grouped by the file that implements them. */
#ifndef H5PYVOL_CLASSES_H
#define H5PYVOL_CLASSES_H

/* attr.c */
void  *pv_attr_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t type_id, hid_t space_id,
                      hid_t acpl_id, hid_t aapl_id, hid_t dxpl_id, void **req);
void  *pv_attr_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t aapl_id, hid_t dxpl_id,
                    void **req);
herr_t pv_attr_read(void *attr, hid_t mem_type_id, void *buf, hid_t dxpl_id, void **req);
herr_t pv_attr_write(void *attr, hid_t mem_type_id, const void *buf, hid_t dxpl_id, void **req);
herr_t pv_attr_get(void *obj, H5VL_attr_get_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_attr_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_attr_specific_args_t *args, hid_t dxpl_id,
                        void **req);
herr_t pv_attr_close(void *attr, hid_t dxpl_id, void **req);

/* datatype.c */
void  *pv_datatype_commit(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t type_id, hid_t lcpl_id,
                          hid_t tcpl_id, hid_t tapl_id, hid_t dxpl_id, void **req);
void  *pv_datatype_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t tapl_id, hid_t dxpl_id,
                        void **req);
herr_t pv_datatype_get(void *obj, H5VL_datatype_get_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_datatype_specific(void *obj, H5VL_datatype_specific_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_datatype_close(void *dt, hid_t dxpl_id, void **req);
PyObject *pv_named_type_of(hid_t type_id); /* the committed datatype's Python object, or None */

/* file.c */
void  *pv_file_create(const char *name, unsigned flags, hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id, void **req);
void  *pv_file_open(const char *name, unsigned flags, hid_t fapl_id, hid_t dxpl_id, void **req);
herr_t pv_file_get(void *obj, H5VL_file_get_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_file_specific(void *obj, H5VL_file_specific_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_file_close(void *obj, hid_t dxpl_id, void **req);

/* group.c */
void  *pv_group_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t lcpl_id,
                       hid_t gcpl_id, hid_t gapl_id, hid_t dxpl_id, void **req);
void  *pv_group_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t gapl_id,
                     hid_t dxpl_id, void **req);
herr_t pv_group_get(void *obj, H5VL_group_get_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_group_specific(void *obj, H5VL_group_specific_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_group_close(void *obj, hid_t dxpl_id, void **req);
/* virtual.c */
herr_t pv_virtual_grow(hid_t dcpl, const char *own_file, hid_t dapl, hid_t extent);
herr_t pv_virtual_read(hid_t dcpl, const char *own_file, hid_t dapl, hid_t extent, hid_t mem_type,
                       hid_t mem_space, hid_t file_space, hid_t dxpl, void *buf);
herr_t pv_file_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_group_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_object_stat(pv_obj_t *o, const H5VL_loc_params_t *loc, H5G_stat_t *stat);

/* dataset.c */
void  *pv_dataset_create(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t lcpl_id,
                         hid_t type_id, hid_t space_id, hid_t dcpl_id, hid_t dapl_id, hid_t dxpl_id,
                         void **req);
void  *pv_dataset_open(void *obj, const H5VL_loc_params_t *loc, const char *name, hid_t dapl_id,
                       hid_t dxpl_id, void **req);
herr_t pv_dataset_read(size_t count, void *dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                       hid_t file_space_id[], hid_t dxpl_id, void *buf[], void **req);
herr_t pv_dataset_write(size_t count, void *dset[], hid_t mem_type_id[], hid_t mem_space_id[],
                        hid_t file_space_id[], hid_t dxpl_id, const void *buf[], void **req);
herr_t pv_dataset_get(void *obj, H5VL_dataset_get_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_dataset_specific(void *obj, H5VL_dataset_specific_args_t *args, hid_t dxpl_id, void **req);
herr_t pv_dataset_close(void *obj, hid_t dxpl_id, void **req);

/* object.c */
herr_t pv_object_copy(void *src_obj, const H5VL_loc_params_t *loc1, const char *src_name, void *dst_obj,
                      const H5VL_loc_params_t *loc2, const char *dst_name, hid_t ocpypl_id, hid_t lcpl_id,
                      hid_t dxpl_id, void **req);
void  *pv_object_open(void *obj, const H5VL_loc_params_t *loc, H5I_type_t *opened_type, hid_t dxpl_id,
                      void **req);
herr_t pv_object_get(void *obj, const H5VL_loc_params_t *loc, H5VL_object_get_args_t *args,
                     hid_t dxpl_id, void **req);
herr_t pv_object_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_object_specific_args_t *args,
                          hid_t dxpl_id, void **req);

/* link.c */
herr_t pv_link_copy(void *src_obj, const H5VL_loc_params_t *loc1, void *dst_obj, const H5VL_loc_params_t *loc2,
                    hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id, void **req);
herr_t pv_link_move(void *src_obj, const H5VL_loc_params_t *loc1, void *dst_obj, const H5VL_loc_params_t *loc2,
                    hid_t lcpl_id, hid_t lapl_id, hid_t dxpl_id, void **req);
herr_t pv_link_create(H5VL_link_create_args_t *args, void *obj, const H5VL_loc_params_t *loc, hid_t lcpl_id,
                      hid_t lapl_id, hid_t dxpl_id, void **req);
herr_t pv_link_get(void *obj, const H5VL_loc_params_t *loc, H5VL_link_get_args_t *args, hid_t dxpl_id,
                   void **req);
herr_t pv_link_specific(void *obj, const H5VL_loc_params_t *loc, H5VL_link_specific_args_t *args,
                        hid_t dxpl_id, void **req);

/* connector.c */
herr_t pv_unsupported_optional(void *obj, H5VL_optional_args_t *args, hid_t dxpl_id, void **req);
extern const H5VL_class_t pv_class;

#endif
