"""``h5pyvol.refresh(obj)``: HDF5's H5Orefresh for any h5py object.

h5py refreshes datasets (``Dataset.refresh``) but has no group refresh.  A
SWMR reader of an H5PyVOL file calls this to see the links and attributes
another process flushed into a group since it opened the file, without
reopening it.
"""
from __future__ import annotations


def refresh(obj) -> None:
    """Re-reads ``obj`` (an h5py File, Group or Dataset) as another process
    last flushed it: a group's links and attributes, a dataset's extent and
    attributes."""
    from .h5py_compat import hdf5
    # a file id stands for its root group in h5py, not in H5Orefresh
    oid = hdf5.check(hdf5.H5Oopen(obj.id.id, b".", hdf5.H5P_DEFAULT), "H5Oopen")
    try:
        hdf5.check(hdf5.H5Orefresh(oid), "H5Orefresh")
    finally:
        hdf5.H5Oclose(oid)
    getattr(obj, "_cache_props", {}).clear()  # h5py's cached dataset shape
