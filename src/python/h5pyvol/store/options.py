"""The store connector's settings: connector-info keys, each also an
environment variable ``H5PYVOL_STORE_<KEY>``, checked when the connector
starts so that a mistyped or impossible setting is an error then, not a
file quietly written somewhere else or uncompressed."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from . import routing
from .zarrmeta import compressor_codecs

#: the store's own keys (what each takes: StoreVOL's docstring and README)
STORE_OPTIONS = ("compression", "workers", "chunk_cache", "fsync", "root", "lock")
ENV_PREFIX = "H5PYVOL_STORE_"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
MAX_WORKERS = 256


class AcceptedKeys:
    """The keys a store connector takes: its own, and those of the
    installed backends (object stores), loaded only when a key is not the
    store's own: a C program that never names one does not import them."""

    def __contains__(self, key) -> bool:
        return key in STORE_OPTIONS or key in routing.backend_options()

    def __iter__(self):
        return iter(sorted(set(STORE_OPTIONS) | routing.backend_options()))

    @property
    def note(self) -> str:
        return "".join(f"; the {scheme}:// backend, whose keys these may be, failed to load ({why})"
                       for scheme, why in routing.broken_backends().items())


def _mib(key: str, value: str) -> int:
    try:
        mib = float(value)
    except ValueError:
        mib = -1.0
    if not 0 <= mib < (1 << 40):
        raise ValueError(f"{key}={value!r}: give a size in MiB (a number >= 0; 0 turns it off)")
    return int(mib * (1 << 20))


def _flag(key: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{key}={value!r}: give 1 or 0")


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers={value!r}: give a whole number of concurrent chunk transfers, 1 to {MAX_WORKERS}")
    return workers


@dataclass(frozen=True)
class StoreOptions:
    compression: Optional[str]
    root: Optional[str]
    workers: int
    fsync: bool
    chunk_cache_bytes: int
    lock: str

    @classmethod
    def parse(cls, options: dict, environ=os.environ) -> "StoreOptions":
        """The settings from the connector info (``options``), else the
        environment, else the defaults; ValueError naming a bad one."""
        stray = sorted(name for name in environ
                       if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX):].lower() not in STORE_OPTIONS)
        if stray:
            raise ValueError(f"unknown environment variable {', '.join(stray)}: the store reads "
                             f"{', '.join(ENV_PREFIX + key.upper() for key in STORE_OPTIONS)}")

        def option(key, default=None):
            return options.get(key, environ.get(ENV_PREFIX + key.upper(), default))
        compression = option("compression")
        compressor_codecs(compression)  # raises for a codec or level that does not exist
        root = option("root")
        routing.check_root(root)
        lock = option("lock", "none")
        if lock not in ("none", "rw"):
            raise ValueError(f"lock={lock!r}: use lock=rw (one writer at a time, parallel readers) or lock=none")
        return cls(compression=compression, root=root, workers=_workers(option("workers", "8")),
                   fsync=_flag("fsync", option("fsync", "0")),
                   chunk_cache_bytes=_mib("chunk_cache", option("chunk_cache", "64")), lock=lock)
