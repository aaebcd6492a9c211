"""Real servers the tests start on 127.0.0.1, and the secrets they use:
every test's output is searched for those (tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

from .seaweedfs import SECRET_KEY

SECRETS: set[str] = {SECRET_KEY}  # the S3 servers' (radosgw's user too); Ceph keyrings join as clusters start


def remember_keyrings(directory: Path) -> None:
    """Every ``key = ...`` of the Ceph keyrings under ``directory``."""
    for keyring in Path(directory).rglob("*keyring"):
        for line in keyring.read_text(errors="replace").splitlines():
            name, _, value = line.partition("=")
            if name.strip() == "key" and value.strip():
                SECRETS.add(value.strip())
