"""S3 object stores as H5PyVOL store backends: ``s3://bucket/path/file.h5``.

The store connector (h5pyvol.store) keeps each HDF5 file as Zarr v3 objects
under the file's key prefix; this package gives it the keys, through the
MinIO Python SDK.  Registered for ``s3://`` through the ``h5pyvol.backends``
entry point, so installing the package is all it takes.
"""
from __future__ import annotations

from h5pyvol.store.names import check_path

from .config import S3Config
from .kv import S3KV


def backend(url: str, options: dict) -> S3KV:
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if "@" in bucket:  # never echoed: what precedes the @ may be a secret key
        raise ValueError("an s3:// URL carries no credentials: give them as access_key= and secret_key= or in "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket (expected s3://bucket/path/file.h5)")
    check_path(url, prefix)
    config = S3Config.resolve(options)
    return S3KV(config, bucket, prefix.strip("/"))


#: the connector-info keys this backend reads (the store refuses others)
backend.options = ("endpoint", "access_key", "secret_key", "session_token", "region")


__all__ = ["S3Config", "S3KV", "backend"]
