"""Which connector class serves a file: the connector info string, the
environment, or the default.

The info string is what follows "H5PyVOL" in HDF5_VOL_CONNECTOR (or what a
program passes to H5Pset_vol): whitespace-separated ``key=value`` pairs.
``module`` and ``class`` name a connector class (also settable as the
environment variables ``H5PyVOLModule`` and ``H5PyVOLClass``), ``connector``
names a built-in one; every other key becomes a keyword argument of the
connector's constructor.
"""
from __future__ import annotations

import importlib
import os
import shlex
import sys

from .errors import ConnectorConfigError

#: connectors known by name: name -> "module:Class"
BUILTIN = {
    "memory": "h5pyvol.connectors.memory:MemoryVOL",
    "store": "h5pyvol.store.connector:StoreVOL",
}
DEFAULT = "store"


def parse_info(config: str | None) -> dict[str, str]:
    options = {}
    for token in shlex.split(config or ""):
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise ConnectorConfigError(
                f"bad H5PyVOL connector setting {token!r}: expected key=value")
        options[key] = value
    return options


def resolve_name(name: str) -> tuple[str, str]:
    """(module, class) for a connector name: a built-in name or python:module:Class."""
    if name.startswith("python:"):
        name = name[len("python:"):]
    target = BUILTIN.get(name, name)
    module, sep, cls = target.partition(":")
    if not sep or not module or not cls:
        known = ", ".join(sorted(BUILTIN))
        raise ConnectorConfigError(
            f"unknown H5PyVOL connector {name!r}; use one of {known} or python:module:Class")
    return module, cls


def connector_target(options: dict[str, str]) -> tuple[str, str]:
    """(module, class) chosen by the options (consumed) and the environment."""
    module = options.pop("module", None) or os.environ.get("H5PyVOLModule")
    cls = options.pop("class", None) or os.environ.get("H5PyVOLClass")
    name = options.pop("connector", None)
    if module or cls:
        if not (module and cls):
            raise ConnectorConfigError(
                "H5PyVOL needs both a module and a class (module=... class=..., or "
                f"H5PyVOLModule and H5PyVOLClass); got module={module!r} class={cls!r}")
        return module, cls
    return resolve_name(name or os.environ.get("H5PYVOL_CONNECTOR") or DEFAULT)


def import_module(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # A C host's interpreter has no script directory on sys.path; connectors
        # living in the current directory are found as `python -c` would.
        if exc.name and module.split(".")[0] == exc.name and os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
            try:
                return importlib.import_module(module)
            except ModuleNotFoundError:
                pass
        raise ConnectorConfigError(f"cannot import H5PyVOL connector module {module!r}: {exc}") from exc
    except Exception as exc:
        raise ConnectorConfigError(
            f"importing H5PyVOL connector module {module!r} failed: {type(exc).__name__}: {exc}") from exc


def load_class(module: str, cls: str) -> type:
    from .api import H5VOL

    mod = import_module(module)
    try:
        target = getattr(mod, cls)
    except AttributeError:
        raise ConnectorConfigError(f"H5PyVOL connector module {module!r} has no class {cls!r}") from None
    if not (isinstance(target, type) and issubclass(target, H5VOL)):
        raise ConnectorConfigError(f"H5PyVOL connector {module}.{cls} is not a subclass of h5pyvol.H5VOL")
    return target
