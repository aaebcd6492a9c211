"""Where the installed pieces are: the plugin directory and the HDF5 in use."""
from __future__ import annotations

import os

from . import _build_config


def plugin_dir() -> str:
    """The directory to put in HDF5_PLUGIN_PATH."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin")


def hdf5_prefix() -> str:
    """Install prefix of the HDF5 the plugin was built against."""
    return _build_config.HDF5_PREFIX
