"""Connectors written for the original H5PyVOL.

Their methods are named after the VOL callbacks (``H5VL_python_file_create``,
``H5VL_python_dataset_write``, ...), take raw HDF5 identifiers and construct
objects from a name alone.  The identifiers passed here are HDF5's defaults
(0: H5P_DEFAULT / H5S_ALL); the data is what the new API passes.
"""
from __future__ import annotations

import numpy as np

H5P_DEFAULT = 0
H5S_ALL = 0


def file_create(vol, name, flags, fapl_id):
    return vol.H5VL_python_file_create(name, flags, H5P_DEFAULT, fapl_id, H5P_DEFAULT, None)


def file_open(vol, name, flags, fapl_id):
    return vol.H5VL_python_file_open(name, flags, fapl_id, H5P_DEFAULT, None)


def dataset_create(parent, name, *, dtype, shape, maxshape, creation, type_spec=None):
    ds = parent.H5VL_python_dataset_create(None, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT, None)
    # The original API never told the dataset its type or extent.
    ds.dtype, ds.shape, ds.maxshape, ds.creation = np.dtype(dtype), shape, maxshape, creation
    ds.type_spec = type_spec
    parent.link(name, ds)
    return ds


def dataset_write(ds, selection, data):
    # The original API handed over an array of the connector's own, which
    # its examples keep (``self.array = buffer``): a copy, not HDF5's buffer.
    ds.H5VL_python_dataset_write(H5P_DEFAULT, H5S_ALL, H5S_ALL, H5P_DEFAULT, np.array(data, copy=True), None)


def dataset_read(ds, selection, out):
    result = ds.H5VL_python_dataset_read(H5P_DEFAULT, H5S_ALL, H5S_ALL, H5P_DEFAULT, None)
    out[...] = np.asarray(result, dtype=ds.dtype.subdtype[0] if ds.dtype.subdtype else ds.dtype).reshape(out.shape)
