"""H5PyVOL: HDF5 calls served by connectors written in Python.

Subclass :class:`H5VOL` (and :class:`H5Dataset`, :class:`H5Group`,
:class:`H5File` as needed) and select the connector with
``HDF5_VOL_CONNECTOR="H5PyVOL module=<module> class=<Class>"``.
"""
from .api import (ArrayDataset, DatasetCreation, ExternalLink, H5Attribute, H5Dataset, H5Datatype, H5File, H5Group, H5Object,
                  H5VOL, SoftLink, UserLink)
from .errors import ConnectorConfigError, H5PyVOLError, NameExistsError
from .paths import plugin_dir
from .refresh import refresh
from .selection import Selection

__all__ = [
    "H5VOL", "H5File", "H5Group", "H5Dataset", "H5Attribute", "H5Datatype", "H5Object", "ArrayDataset", "DatasetCreation",
    "SoftLink", "ExternalLink", "UserLink", "Selection", "H5PyVOLError", "NameExistsError", "ConnectorConfigError", "plugin_dir",
    "refresh", "copy", "pack", "unpack", "remove", "rechunk",
]
__version__ = "0.1.0"


# The tools import h5py: loaded on first use, not when the plugin boots
# Python inside a C program.
def copy(src: str, dst: str, **options):
    """Copies an HDF5 file between any two connectors (``h5pyvol copy``);
    see :func:`h5pyvol.tools.copy.copy` for the options."""
    from .tools.copy import copy as run
    return run(src, dst, **options)


def pack(src: str, archive: str, **options):
    """Writes an HDF5 file into a zip archive (``h5pyvol pack``)."""
    from .tools.archive import pack as run
    return run(src, archive, **options)


def unpack(archive: str, dst: str, **options):
    """Makes a writable HDF5 file of a zip archive (``h5pyvol unpack``)."""
    from .tools.archive import unpack as run
    return run(archive, dst, **options)


def remove(name: str, confirm=None) -> bool:
    """Deletes an H5PyVOL file (``h5pyvol rm``); refuses anything else."""
    from .tools.remove import remove as run
    return run(name, confirm=confirm)


def rechunk(name: str, dataset: str, chunks: tuple, **options):
    """Gives a dataset of an H5PyVOL file new chunk dimensions, atomically
    for readers (``h5pyvol rechunk``)."""
    from .tools.rechunk import rechunk as run
    return run(name, dataset, chunks, **options)
