"""``h5pyvol rm FILE``: deletes an H5PyVOL file (a store or an archive),
and refuses anything else."""
from __future__ import annotations

import json
import os
from typing import Callable, Optional

from .. import files
from ..errors import H5PyVOLError
from ..store.connector import METADATA
from ..store.kv import DirectoryKV
from ..store.zipkv import archive_path
from . import storeview


class NotAnH5PyVOLFile(H5PyVOLError, ValueError):
    pass


def describe_for_removal(name: str) -> str:
    """What would be removed ("N keys, SIZE"); raises NotAnH5PyVOLFile for
    a name that is not an H5PyVOL file."""
    if not files.is_url(name) and os.path.isfile(name) and not name.lower().endswith(".zip"):
        what = "a native HDF5 file" if files.has_hdf5_signature(name) else "not an HDF5 file"
        raise NotAnH5PyVOLFile(f"{name} is {what}, not an H5PyVOL file: h5pyvol rm leaves it alone")
    kv = storeview.open_kv(name)
    raw = kv.get(METADATA)
    if raw is None:
        raise NotAnH5PyVOLFile(f"{name} is not an H5PyVOL file (nothing at {kv.describe()}, or no {METADATA} "
                               f"at its root)")
    try:
        if "_h5pyvol" not in json.loads(raw).get("attributes", {}):
            raise ValueError("no _h5pyvol metadata")
    except ValueError:
        raise NotAnH5PyVOLFile(f"{name} holds a {METADATA} that H5PyVOL did not write (a Zarr store of "
                               f"another program?): h5pyvol rm leaves it alone") from None
    keys = list(kv.list(""))
    from .copy import _size
    return f"{len(keys)} keys, {_size(kv.total_size())}"


def remove(name: str, confirm: Optional[Callable[[str], bool]] = None) -> bool:
    """Deletes the H5PyVOL file ``name`` after ``confirm(description)``
    says yes (no confirm: at once).  Returns whether it was deleted."""
    description = describe_for_removal(name)
    if confirm is not None and not confirm(description):
        return False
    kv = storeview.open_kv(name)
    if name.startswith("zip://") or (not files.is_url(name) and name.lower().endswith(".zip")):
        os.remove(archive_path(name))
        return True
    kv.delete_prefix("")
    if isinstance(kv, DirectoryKV) and os.path.isdir(kv.root):
        for leftover in os.listdir(kv.root):
            if leftover.startswith(".h5pyvol-"):  # lock files
                os.remove(os.path.join(kv.root, leftover))
        os.rmdir(kv.root)
    return True
