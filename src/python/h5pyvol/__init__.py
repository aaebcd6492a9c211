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
    "refresh",
]
__version__ = "0.1.0"
