"""S3 object stores as H5PyVOL store backends: ``s3://bucket/path/file.h5``.

The store connector (h5pyvol.store) keeps each HDF5 file as Zarr v3 objects
under the file's key prefix; this package gives it the keys, through the
MinIO Python SDK.  Registered for ``s3://`` through the ``h5pyvol.backends``
entry point, so installing the package is all it takes.
"""
from __future__ import annotations

from .config import S3Config
from .kv import S3KV


def backend(url: str, options: dict) -> S3KV:
    config = S3Config.resolve(options)
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket (expected s3://bucket/path/file.h5)")
    return S3KV(config, bucket, prefix.strip("/"))


__all__ = ["S3Config", "S3KV", "backend"]
