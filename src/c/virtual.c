/*
 * Reading virtual datasets (H5Pset_virtual).
 *
 * The connector keeps a virtual dataset's creation list, mappings included;
 * reading one is done here, in HDF5's terms: the fill value everywhere the
 * selection reaches, then, for every mapping the selection meets, the
 * source dataset's elements read through HDF5 itself (H5Fopen, H5Dread) into
 * the matching part of the caller's buffer.  Sources may so live in any file
 * HDF5 opens with the default connector: ours, in practice.
 *
 * As natively, a source that cannot be opened leaves the fill value.
 * Unlimited mappings (H5S_UNLIMITED counts) are cut to what their sources
 * hold, and the virtual dataset's extent grows with them (pv_virtual_grow);
 * HDF5's selection projection does not take unlimited selections.
 * Refused with an error: printf-style source names (%b).
 */
#include "bridge.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The path HDF5 would open for a mapping's source file: "." is the virtual
 * dataset's own file; a relative name is tried under the access list's
 * prefix (or HDF5_VDS_PREFIX), then beside the virtual dataset's file, then
 * as given. */
static int source_path(const char *source, const char *own_file, hid_t dapl, char *out, size_t size)
{
    char        own[PATH_MAX], prefix[PATH_MAX] = "";
    const char *env = getenv("HDF5_VDS_PREFIX");

    if (!strcmp(source, ".")) {
        snprintf(out, size, "%s", own_file);
        return 0;
    }
    if (source[0] == '/') {
        snprintf(out, size, "%s", source);
        return 0;
    }
    if (env && *env)
        snprintf(prefix, sizeof prefix, "%s", env);
    else if (dapl >= 0)
        H5Pget_virtual_prefix(dapl, prefix, sizeof prefix);
    snprintf(own, sizeof own, "%s", own_file);
    if (*prefix) {
        if (!strncmp(prefix, "${ORIGIN}", 9))
            snprintf(out, size, "%s%s/%s", dirname(own), prefix + 9, source);
        else
            snprintf(out, size, "%s/%s", prefix, source);
        if (H5Fis_accessible(out, H5P_DEFAULT) > 0)
            return 0;
        snprintf(own, sizeof own, "%s", own_file);
    }
    snprintf(out, size, "%s/%s", dirname(own), source);
    if (H5Fis_accessible(out, H5P_DEFAULT) > 0)
        return 0;
    snprintf(out, size, "%s", source);
    return 0;
}

/* Whether a mapping's selection is unlimited (it grows with its source). */
static int unlimited(hid_t space)
{
    hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
    int     rank = H5Sget_simple_extent_ndims(space), i;

    if (H5Sget_select_type(space) != H5S_SEL_HYPERSLABS || H5Sis_regular_hyperslab(space) <= 0
        || H5Sget_regular_hyperslab(space, start, stride, count, block) < 0)
        return 0;
    for (i = 0; i < rank; i++)
        if (count[i] == H5S_UNLIMITED || block[i] == H5S_UNLIMITED)
            return 1;
    return 0;
}

/* The regular hyperslab of an unlimited mapping selection, and the
 * dimension that is unlimited (-1 if none). */
static int unlimited_dim(hid_t space, hsize_t *start, hsize_t *stride, hsize_t *count, hsize_t *block)
{
    int rank = H5Sget_simple_extent_ndims(space), i;

    if (H5Sget_select_type(space) != H5S_SEL_HYPERSLABS || H5Sis_regular_hyperslab(space) <= 0
        || H5Sget_regular_hyperslab(space, start, stride, count, block) < 0)
        return -1;
    for (i = 0; i < rank; i++)
        if (count[i] == H5S_UNLIMITED)
            return i;
    return -1;
}

/* How many blocks of a selection unlimited in dimension d fit in extent. */
static hsize_t blocks_within(hsize_t extent, hsize_t start, hsize_t stride, hsize_t block)
{
    if (extent < start + block)
        return 0;
    return (extent - start - block) / (stride ? stride : 1) + 1;
}

/* An access list for a source file: a native HDF5 file (HDF5's signature
 * at its start) is opened natively whatever connector is the default, so a
 * store's virtual dataset can map native files.  The caller closes it. */
static hid_t source_fapl(const char *path)
{
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE         *f = fopen(path, "rb");
    int           native = f && fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head, signature, 8);
    hid_t         fapl = H5Pcreate(H5P_FILE_ACCESS), vol;

    if (f)
        fclose(f);
    if (native && fapl >= 0 && (vol = H5VLget_connector_id_by_name("native")) >= 0) {
        H5Pset_vol(fapl, vol, NULL);
        H5VLclose(vol);
    }
    return fapl;
}

/* The source dataset of mapping i, opened read-only, or -1 (a missing
 * source: the caller reads the fill value). *file_out must be closed. */
static hid_t open_source(hid_t dcpl, size_t i, const char *own_file, hid_t dapl, hid_t *file_out)
{
    char  name[PATH_MAX], dset_name[PATH_MAX], path[PATH_MAX];
    hid_t file = -1, dset = -1, fapl;

    *file_out = -1;
    if (H5Pget_virtual_filename(dcpl, i, name, sizeof name) < 0
        || H5Pget_virtual_dsetname(dcpl, i, dset_name, sizeof dset_name) < 0)
        return -1;
    source_path(name, own_file, dapl, path, sizeof path);
    fapl = source_fapl(path);
    H5E_BEGIN_TRY
    {
        file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
        dset = file < 0 ? -1 : H5Dopen2(file, dset_name, H5P_DEFAULT);
    }
    H5E_END_TRY
    H5Pclose(fapl);
    if (dset < 0 && file >= 0)
        H5Fclose(file);
    else
        *file_out = file;
    return dset;
}

/* Number of blocks an unlimited mapping has now: as many as its source
 * holds along the unlimited dimension. */
static hsize_t source_blocks(hid_t dset, hid_t srcspace)
{
    hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
    hsize_t dims[H5S_MAX_RANK];
    hid_t   space;
    int     d = unlimited_dim(srcspace, start, stride, count, block);

    if (d < 0 || dset < 0 || (space = H5Dget_space(dset)) < 0)
        return 0;
    H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    return blocks_within(dims[d], start[d], stride[d], block[d]);
}

/* A copy of an unlimited selection cut to n blocks, on the given extent
 * (or its own when dims is NULL). */
static hid_t clipped(hid_t space, hsize_t n, const hsize_t *dims)
{
    hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
    hsize_t maxdims[H5S_MAX_RANK];
    int     d = unlimited_dim(space, start, stride, count, block), rank = H5Sget_simple_extent_ndims(space);
    hid_t   copy = H5Scopy(space);

    if (copy < 0)
        return copy;
    if (dims) {
        H5Sget_simple_extent_dims(space, NULL, maxdims);
        H5Sset_extent_simple(copy, rank, dims, maxdims);
    }
    if (d >= 0) {
        count[d] = n;
        if (n == 0 ? H5Sselect_none(copy) < 0
                   : H5Sselect_hyperslab(copy, H5S_SELECT_SET, start, stride, count, block) < 0) {
            H5Sclose(copy);
            return -1;
        }
    }
    return copy;
}

/* An unlimited virtual dataset grows with its sources: its extent in each
 * unlimited mapping's dimension reaches the last block the source fills. */
herr_t pv_virtual_grow(hid_t dcpl, const char *own_file, hid_t dapl, hid_t extent)
{
    hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
    hsize_t first_missing[H5S_MAX_RANK];
    size_t  n = 0, i;
    int     rank = H5Sget_simple_extent_dims(extent, dims, maxdims), grown = 0, d;
    H5D_vds_view_t view = H5D_VDS_LAST_AVAILABLE;

    if (rank < 0 || H5Pget_virtual_count(dcpl, &n) < 0)
        return -1;
    if (dapl >= 0)
        H5Pget_virtual_view(dapl, &view);
    for (d = 0; d < rank; d++)
        first_missing[d] = HSIZE_UNDEF;
    for (i = 0; i < n; i++) {
        hid_t vspace = H5Pget_virtual_vspace(dcpl, i), srcspace = H5Pget_virtual_srcspace(dcpl, i), file, dset;
        hsize_t reach = 0, next = 0; /* where its data ends; where its first missing block begins */

        d = vspace >= 0 ? unlimited_dim(vspace, start, stride, count, block) : -1;
        if (d >= 0 && (dset = open_source(dcpl, i, own_file, dapl, &file)) >= 0) {
            hsize_t blocks = source_blocks(dset, srcspace);
            reach = blocks ? start[d] + (blocks - 1) * stride[d] + block[d] : 0;
            next = start[d] + blocks * stride[d];
            H5Dclose(dset);
            H5Fclose(file);
        }
        if (d >= 0) {
            /* H5D_VDS_FIRST_MISSING: the extent ends where the first block any
             * mapping lacks would begin */
            if (next < first_missing[d])
                first_missing[d] = next;
            if (view == H5D_VDS_LAST_AVAILABLE && reach > dims[d]) {
                dims[d] = reach;
                grown = 1;
            }
        }
        if (vspace >= 0)
            H5Sclose(vspace);
        if (srcspace >= 0)
            H5Sclose(srcspace);
    }
    if (view == H5D_VDS_FIRST_MISSING)
        for (d = 0; d < rank; d++)
            if (first_missing[d] != HSIZE_UNDEF && first_missing[d] > dims[d]) {
                dims[d] = first_missing[d];
                grown = 1;
            }
    return grown ? H5Sset_extent_simple(extent, rank, dims, maxdims) : 0;
}

/* One mapping: the part of file_sel it covers, read from its source into
 * the matching part of mem_sel. */
static herr_t read_mapping(hid_t dcpl, size_t i, const char *own_file, hid_t dapl, hid_t mem_type, hid_t mem_sel,
                           hid_t file_sel, hid_t dxpl, void *buf)
{
    hid_t   vspace = H5Pget_virtual_vspace(dcpl, i), srcspace = H5Pget_virtual_srcspace(dcpl, i);
    hid_t   vsel = -1, ssel = -1, src_sel = -1, dst_sel = -1, file = -1, dset = -1;
    hsize_t dims[H5S_MAX_RANK];
    char    name[PATH_MAX], dset_name[PATH_MAX];
    herr_t  ret = -1;

    if (vspace < 0 || srcspace < 0)
        goto done;
    if (H5Pget_virtual_filename(dcpl, i, name, sizeof name) < 0
        || H5Pget_virtual_dsetname(dcpl, i, dset_name, sizeof dset_name) < 0)
        goto done;
    if (strchr(name, '%') || strchr(dset_name, '%')) {
        pv_error(H5E_DATASET, H5E_UNSUPPORTED, "virtual mapping %zu: printf-style source names are not supported", i);
        goto done;
    }
    if ((dset = open_source(dcpl, i, own_file, dapl, &file)) < 0) {
        ret = 0; /* a missing source reads as the fill value, as natively */
        goto done;
    }
    /* unlimited mappings: as many blocks as the source holds, on the
     * virtual dataset's current extent */
    H5Sget_simple_extent_dims(file_sel, dims, NULL);
    if (unlimited(vspace) || unlimited(srcspace)) {
        hsize_t n = source_blocks(dset, srcspace);
        if (!unlimited(srcspace))
            n = 0;
        vsel = clipped(vspace, n, dims);
        ssel = clipped(srcspace, n, NULL);
    }
    else {
        vsel = H5Scopy(vspace);
        ssel = H5Scopy(srcspace);
    }
    if (ssel >= 0) {
        /* the source's own extent, as natively (a mapping's stored source
         * space may carry none: "all of the source" is saved as a scalar) */
        hid_t actual = H5Dget_space(dset);

        if (actual < 0 || H5Sextent_copy(ssel, actual) < 0) {
            H5Sclose(ssel);
            ssel = -1;
        }
        if (actual >= 0)
            H5Sclose(actual);
    }
    if (vsel < 0 || ssel < 0)
        goto done;
    /* the elements of file_sel this mapping covers, seen from the source
     * and from the caller's buffer */
    if ((src_sel = H5Sselect_project_intersection(vsel, ssel, file_sel)) < 0
        || (dst_sel = H5Sselect_project_intersection(file_sel, mem_sel, vsel)) < 0)
        goto done;
    if (H5Sget_select_npoints(src_sel) == 0) {
        ret = 0;
        goto done;
    }
    if (H5Dread(dset, mem_type, dst_sel, src_sel, dxpl, buf) < 0)
        pv_error(H5E_DATASET, H5E_READERROR, "virtual mapping %zu: cannot read %s in %s", i, dset_name, name);
    else
        ret = 0;
done:
    if (dset >= 0)
        H5Dclose(dset);
    if (file >= 0)
        H5Fclose(file);
    if (src_sel >= 0)
        H5Sclose(src_sel);
    if (dst_sel >= 0)
        H5Sclose(dst_sel);
    if (vsel >= 0)
        H5Sclose(vsel);
    if (ssel >= 0)
        H5Sclose(ssel);
    if (vspace >= 0)
        H5Sclose(vspace);
    if (srcspace >= 0)
        H5Sclose(srcspace);
    if (ret < 0)
        pv_error(H5E_DATASET, H5E_READERROR, "virtual mapping %zu of the dataset could not be read", i);
    return ret;
}

herr_t pv_virtual_read(hid_t dcpl, const char *own_file, hid_t dapl, hid_t extent, hid_t mem_type,
                       hid_t mem_space, hid_t file_space, hid_t dxpl, void *buf)
{
    hid_t  file_sel = file_space == H5S_ALL ? extent : file_space;
    hid_t  mem_sel = mem_space == H5S_ALL ? file_sel : mem_space;
    size_t count = 0, i;
    size_t size = H5Tget_size(mem_type);
    void  *fill = calloc(1, size ? size : 1);
    H5D_fill_value_t defined = H5D_FILL_VALUE_UNDEFINED;
    herr_t ret = 0;

    if (!fill) {
        pv_error(H5E_RESOURCE, H5E_CANTALLOC, "out of memory");
        return -1;
    }
    if (H5Pfill_value_defined(dcpl, &defined) >= 0 && defined != H5D_FILL_VALUE_UNDEFINED)
        H5Pget_fill_value(dcpl, mem_type, fill);
    if (H5Dfill(fill, mem_type, buf, mem_type, mem_sel) < 0 || H5Pget_virtual_count(dcpl, &count) < 0) {
        pv_error(H5E_DATASET, H5E_READERROR, "cannot fill the virtual dataset's selection");
        ret = -1;
    }
    for (i = 0; ret == 0 && i < count; i++)
        ret = read_mapping(dcpl, i, own_file, dapl, mem_type, mem_sel, file_sel, dxpl, buf);
    free(fill);
    return ret;
}
