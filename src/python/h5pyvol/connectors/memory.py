"""The in-memory reference connector.

Everything lives in Python objects for the life of the process: a program may
close a file and open it again, and nothing is written anywhere.  It is the
smallest complete connector: the base classes of ``h5pyvol.api`` keep files
in a dict and the hierarchy in dicts, and :class:`ArrayDataset` keeps each
dataset in a numpy array.  Read this first when writing a connector.
"""
from __future__ import annotations

from ..api import ArrayDataset, H5VOL


class MemoryVOL(H5VOL):
    """Files kept in this process's memory, keyed by file name."""

    OPTIONS = ()  # nothing to configure
    dataset_class = ArrayDataset
