"""``python -m h5pyvol env [CONNECTOR]``: shell exports that make HDF5
programs use H5PyVOL.

CONNECTOR is a built-in connector name (``memory``), ``python:module:Class``
for any connector class, or nothing for the default.  Use it as
``eval "$(.venv/bin/python -m h5pyvol env)"``.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from . import registry
from .errors import ConnectorConfigError
from .paths import hdf5_prefix, plugin_dir


def connector_setting(name: str | None) -> str:
    """The HDF5_VOL_CONNECTOR value for a connector name."""
    if not name:
        return "H5PyVOL"
    module, cls = registry.resolve_name(name)
    if name in registry.BUILTIN:
        return f"H5PyVOL connector={name}"
    return f"H5PyVOL module={module} class={cls}"


def _prepend(var: str, value: str) -> str:
    old = os.environ.get(var)
    parts = [value] + [p for p in (old.split(os.pathsep) if old else []) if p != value]
    return os.pathsep.join(parts)


def env_lines(name: str | None) -> list[str]:
    prefix = hdf5_prefix()
    values = {
        "HDF5_PLUGIN_PATH": plugin_dir(),
        "HDF5_VOL_CONNECTOR": connector_setting(name),
        "PATH": _prepend("PATH", os.path.join(prefix, "bin")),
        "LD_LIBRARY_PATH": _prepend("LD_LIBRARY_PATH", os.path.join(prefix, "lib")),
    }
    return [f"export {k}={shlex.quote(v)}" for k, v in values.items()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m h5pyvol", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="print export lines for a shell")
    env.add_argument("connector", nargs="?", help="memory, python:module:Class, ... (default: the default)")
    args = parser.parse_args(argv)
    if args.command == "env":
        try:
            print("\n".join(env_lines(args.connector)))
        except ConnectorConfigError as exc:
            print(f"h5pyvol: {exc}", file=sys.stderr)
            return 2
    return 0
