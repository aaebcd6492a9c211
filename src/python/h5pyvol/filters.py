"""The one HDF5 filter whose effect shows in the values: scale-offset.

Connectors store values, not HDF5's filtered chunks, so compression filters
(deflate, shuffle, ...) change nothing a reader sees.  Scale-offset
(H5Pset_scaleoffset) is lossy: natively a reader gets back floats rounded
to the requested decimal digits, and integers cut to the requested number
of bits above the minimum (the all-ones code standing for the fill value).  ``values_as_stored`` applies that loss when data
is written, so readers see what they would natively (the minimum is taken
over each write, natively over each chunk).
"""
from __future__ import annotations

import numpy as np

H5Z_FILTER_SCALEOFFSET = 6
H5Z_SO_FLOAT_DSCALE, H5Z_SO_FLOAT_ESCALE, H5Z_SO_INT = 0, 1, 2


def scaleoffset_parameters(filters) -> tuple[int, int] | None:
    """(scale type, scale factor) of a scale-offset filter in a creation
    list's filters [(id, flags, cd_values), ...], or None."""
    for filter_id, _flags, values in filters or ():
        if filter_id == H5Z_FILTER_SCALEOFFSET and len(values) >= 2:
            return int(values[0]), int(values[1])
    return None


def values_as_stored(filters, data: np.ndarray, fill=None) -> np.ndarray:
    """data as a native reader would get it back.  fill: the dataset's
    fill value, or None when it has none (HDF5 reserves the all-ones code of
    cut integers for it)."""
    params = scaleoffset_parameters(filters)
    if params is None or data.size == 0 or data.dtype.fields is not None:
        return data
    scale_type, factor = params
    if scale_type == H5Z_SO_FLOAT_DSCALE and data.dtype.kind == "f":
        low = data.min()
        return (np.round((data - low) * 10.0 ** factor) / 10.0 ** factor + low).astype(data.dtype)
    if scale_type == H5Z_SO_INT and data.dtype.kind in "iu" and factor > 0:
        # HDF5 codes fill values as all ones and the rest as their offset
        # from the smallest other value, cut to `factor` bits; reading maps
        # all ones back to the fill value
        is_fill = data == fill if fill is not None else np.zeros(data.shape, dtype=bool)
        if is_fill.all():
            return data
        low = int(data[~is_fill].min())
        all_ones = np.uint64((1 << factor) - 1)
        offsets = (data.astype(np.int64) - low).astype(np.uint64) & all_ones
        stored = (offsets.astype(np.int64) + low).astype(data.dtype)
        if fill is not None:
            stored[is_fill | (offsets == all_ones)] = fill
        return stored
    return data
