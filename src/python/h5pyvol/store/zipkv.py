"""A Zarr zip store as a read-only backend: ``data.zip`` or ``zip://data.zip``.

``h5pyvol pack`` writes one; zarr-python's ``ZipStore`` opens the same
archive.  Keys are member names at the archive's root.  The archive is never
changed: a write fails with PermissionError (``h5pyvol unpack`` makes a
writable copy).
"""
from __future__ import annotations

import os
import threading
import zipfile
from typing import Iterator, Optional
from urllib.parse import unquote

from .kv import KVStore


def archive_path(name: str) -> str:
    return unquote(name[len("zip://"):]) if name.startswith("zip://") else name


class ZipKV(KVStore):
    local = True

    def __init__(self, name: str):
        self.path = archive_path(name)
        self.read_only = (f"{self.path} is a zip archive, which H5PyVOL opens read-only "
                          f"(h5pyvol unpack makes a writable copy)")
        self._lock = threading.Lock()
        self._zip: Optional[zipfile.ZipFile] = None
        self._members: Optional[dict] = None

    def _archive(self) -> zipfile.ZipFile:
        with self._lock:
            if self._zip is None:
                if not os.path.isfile(self.path):
                    raise FileNotFoundError(f"unable to open file: {self.path!r} does not exist")
                try:
                    self._zip = zipfile.ZipFile(self.path, "r")
                except zipfile.BadZipFile as exc:
                    raise OSError(f"{self.path}: not a zip archive ({exc})") from exc
                self._members = {info.filename: info for info in self._zip.infolist() if not info.is_dir()}
            return self._zip

    def get(self, key: str) -> Optional[bytes]:
        archive = self._archive()
        if key not in self._members:
            return None
        return archive.read(key)

    def exists(self, key: str) -> bool:
        if not os.path.isfile(self.path):
            return False
        self._archive()
        return key in self._members

    def list(self, prefix: str = "") -> Iterator[str]:
        self._archive()
        return iter([k for k in self._members if k.startswith(prefix)])

    def total_size(self, prefix: str = "") -> int:
        self._archive()
        return sum(info.file_size for k, info in self._members.items() if k.startswith(prefix))

    def _refuse(self, *args, **kwargs):
        raise PermissionError(self.read_only)

    put = delete = put_if_absent = delete_prefix = prepare_create = remove_foreign_object = _refuse

    def put_if_version(self, key, value, version):
        self._refuse()

    def describe(self) -> str:
        return f"zip://{os.path.abspath(self.path)}"
