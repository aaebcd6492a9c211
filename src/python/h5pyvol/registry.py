"""Which connector class serves a file: the connector info string, the
environment, or the default.

The info string is what follows "H5PyVOL" in HDF5_VOL_CONNECTOR (or what a
program passes to H5Pset_vol): whitespace-separated ``key=value`` pairs.
``module`` and ``class`` name a connector class (also settable as the
environment variables ``H5PyVOLModule`` and ``H5PyVOLClass``), ``connector``
names a built-in one; every other key becomes a keyword argument of the
connector's constructor.  A connector that lists the keys it takes
(``H5VOL.accepted_options``) gets a setting it does not know refused with
the keys it does, so a typo never goes unnoticed.
"""
from __future__ import annotations

import difflib
import importlib
import os
import re
import shlex
import sys

from .errors import ConnectorConfigError

#: connectors known by name: name -> "module:Class"
BUILTIN = {
    "memory": "h5pyvol.connectors.memory:MemoryVOL",
    "store": "h5pyvol.store.connector:StoreVOL",
}
DEFAULT = "store"


#: the keys the registry itself reads
REGISTRY_KEYS = ("module", "class", "connector", "call_timeout")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_INFO = 1 << 16  # characters: far more than any real configuration


def parse_info(config: str | None) -> dict[str, str]:
    """``key=value`` pairs, quoted as a shell would (``root='my dir'``)."""
    config = config or ""
    if len(config) > MAX_INFO:
        raise ConnectorConfigError(f"H5PyVOL connector info of {len(config)} characters: at most {MAX_INFO}")
    try:
        tokens = shlex.split(config)
    except ValueError as exc:  # an unclosed quote
        raise ConnectorConfigError(f"H5PyVOL connector info {config!r} cannot be split into settings: {exc}") from None
    options = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise ConnectorConfigError(
                f"bad H5PyVOL connector setting {token!r}: expected key=value")
        if not _KEY.match(key):
            raise ConnectorConfigError(
                f"bad H5PyVOL connector setting {token!r}: a key is letters, digits and _ (ASCII)")
        if key in options:
            raise ConnectorConfigError(f"H5PyVOL connector setting {key!r} given twice")
        options[key] = value
    return options


def check_options(cls: type, options: dict[str, str]) -> None:
    """Refuses keys the connector class does not take, naming the ones it does."""
    accepted = cls.accepted_options()
    if accepted is None:
        return
    unknown = sorted(key for key in options if key not in accepted)
    if unknown:
        valid = sorted(set(accepted) | set(REGISTRY_KEYS))
        hints = [f"{key!r} (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(key, valid, 1))
                 else repr(key) for key in unknown]
        raise ConnectorConfigError(
            f"unknown H5PyVOL connector setting {', '.join(hints)} for {cls.__module__}.{cls.__qualname__}; "
            f"valid keys: {', '.join(valid)}{getattr(accepted, 'note', '')}")


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
    if name is None:
        name = os.environ.get("H5PYVOL_CONNECTOR") or DEFAULT
    return resolve_name(name)


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
