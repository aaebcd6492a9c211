"""Lets unmodified h5py scripts iterate, visit and test membership in files
H5PyVOL serves.

h5py is compiled with H5_USE_110_API, so ``for k in group``, ``'a/b' in
group``, ``group.get(name, getclass=True)``, ``visit``/``visititems`` and
``visit_links`` reach HDF5's version-1 calls (H5Literate_by_name1,
H5Oget_info1, H5Ovisit_by_name1, H5Lget_info1, H5Lvisit_by_name1), which
HDF5 1.14 refuses for every connector but the native one.  ``install``
gives exactly those h5py entry points an implementation on HDF5's version-2
calls (``hdf5.py``) for objects whose connector is H5PyVOL; objects of any
other connector, native files included, go to h5py's own code untouched.

The plugin calls ``install`` when it joins a Python interpreter.  h5py is
usually half-imported at that moment (HDF5 loads the plugin while h5py
initialises the library), so the patches are applied when ``h5py._hl.group``
finishes importing, through an import hook, or at once if it already has.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys

CONNECTOR_NAME = "H5PyVOL"
_TARGET = "h5py._hl.group"


def install() -> None:
    if _TARGET in sys.modules:
        _apply()
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _apply() -> None:
    from . import patches
    patches.apply()


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Wraps the loader of h5py._hl.group so the patches follow its import."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]
        _apply()
