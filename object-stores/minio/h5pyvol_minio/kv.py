"""The store connector's key-value interface over one S3 bucket and prefix."""
from __future__ import annotations

import io
import time
from typing import Iterator, Optional

import urllib3
from minio.error import S3Error, ServerError

from h5pyvol.store.kv import KVStore

from .config import S3Config

# S3 error codes worth another try; anything else is the caller's problem
_TRANSIENT_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "RequestTimeTooSkewed"}
ATTEMPTS = 5
FIRST_BACKOFF = 0.1  # seconds, doubled after each failure


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ServerError):
        return exc.status_code >= 500
    if isinstance(exc, S3Error):
        # radosgw answers a GET that races a PUT of the same object with an
        # empty error body now and then (minio's "UnknownError"): it passes
        status = exc.response.status if exc.response is not None else 0
        return exc.code in _TRANSIENT_CODES or status >= 500 or exc.code == "UnknownError"
    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError))


def _lost_race(exc: S3Error) -> bool:
    """A conditional PUT the server refused: another writer got there first."""
    return exc.code in ("PreconditionFailed", "ConditionalRequestConflict") or (
        exc.response is not None and exc.response.status == 412)


class S3KV(KVStore):
    """Keys as objects ``<prefix>/<key>`` in a bucket.  Every call retries
    transient failures (5xx, timeouts, connection resets) with backoff, then
    raises OSError naming the server, the object and the last error."""

    supports_conditional_put = True

    def __init__(self, config: S3Config, bucket: str, prefix: str):
        self.config = config
        self.bucket = bucket
        self.prefix = prefix
        self.client = config.client()
        self.max_key_length = 1024 - (len(prefix.encode()) + 1 if prefix else 0)  # S3's object name limit

    def describe(self) -> str:
        return f"s3://{self.config.host}/{self.bucket}/{self.prefix}"

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _retrying(self, what: str, call):
        delay = FIRST_BACKOFF
        for attempt in range(ATTEMPTS):
            try:
                return call()
            except Exception as exc:
                if not _transient(exc) or attempt == ATTEMPTS - 1:
                    if _transient(exc):
                        raise OSError(f"S3 server {self.config.host} failed {what} after {ATTEMPTS} attempts: "
                                      f"{exc}") from exc
                    raise
                time.sleep(delay)
                delay *= 2

    @staticmethod
    def _missing(exc: S3Error) -> bool:
        # a missing bucket holds no file either: opening says "does not exist"
        return exc.code in ("NoSuchKey", "NoSuchObject", "NoSuchBucket")

    # -- reading ----------------------------------------------------------------------
    def _fetch(self, key: str, take, missing, offset: int = 0, length: int = 0):
        """``take(response)`` of a GET of ``key`` (retried), the response
        closed after; ``missing`` when there is no such object."""
        def call():
            response = self.client.get_object(self.bucket, self._name(key), offset=offset, length=length)
            try:
                return take(response)
            finally:
                response.close()
                response.release_conn()
        try:
            return self._retrying(f"GET {self.bucket}/{self._name(key)}", call)
        except S3Error as exc:
            if self._missing(exc):
                return missing
            raise

    def _get(self, key: str, offset: int = 0, length: int = 0) -> tuple[Optional[bytes], Optional[str]]:
        """(value or None when missing, its ETag)."""
        return self._fetch(key, lambda response: (response.read(), response.headers.get("ETag")), (None, None),
                           offset, length)

    def get(self, key):
        return self._get(key)[0]

    def get_into(self, key, buffer):
        # the body goes from the socket into the caller's memory: urllib3's
        # own readinto reads into a new bytes object and copies it
        def take(response):
            size = int(response.headers.get("Content-Length", -1))
            body = getattr(response, "_fp", None)
            if size != len(buffer) or response.headers.get("Content-Encoding") or body is None:
                value = response.read() if size == len(buffer) or size < 0 else None
                if value is None:
                    return size
                if len(value) == len(buffer):
                    buffer[:] = value
                return len(value)
            done = 0
            while done < size:
                n = body.readinto(buffer[done:])
                if not n:
                    raise urllib3.exceptions.ProtocolError(f"connection closed after {done} of {size} bytes")
                done += n
            return size
        return self._fetch(key, take, None)

    def get_range(self, key, start, length):
        # a ranged GET: reading one element of a large chunk fetches that element only
        if length <= 0:
            return b"" if self.exists(key) else None
        return self._get(key, start, length)[0]

    def exists(self, key):
        try:
            self._retrying("HEAD", lambda: self.client.stat_object(self.bucket, self._name(key)))
            return True
        except S3Error as exc:
            if self._missing(exc):
                return False
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        start = len(self.prefix) + 1 if self.prefix else 0
        try:
            objects = self._retrying("LIST", lambda: list(self.client.list_objects(
                self.bucket, prefix=self._name(prefix), recursive=True)))
        except S3Error as exc:
            if self._missing(exc):
                return iter(())
            raise
        return iter([o.object_name[start:] for o in objects if not o.is_dir])

    def total_size(self, prefix: str = "") -> int:
        try:  # LIST reports every object's size: no GETs
            objects = self._retrying("LIST", lambda: list(self.client.list_objects(
                self.bucket, prefix=self._name(prefix), recursive=True)))
        except S3Error as exc:
            if self._missing(exc):
                return 0
            raise
        return sum(o.size or 0 for o in objects if not o.is_dir)

    # -- writing ----------------------------------------------------------------------
    def put(self, key, value):
        data = bytes(value)
        self._retrying(f"PUT {self.bucket}/{self._name(key)}", lambda: self.client.put_object(
            self.bucket, self._name(key), io.BytesIO(data), len(data)))

    def put_if_absent(self, key, value) -> bool:
        """A create-exclusive PUT (If-None-Match: *): the server decides
        atomically, so of two racing writers exactly one wins.  The SDK has
        no parameter for the header; its request method carries it."""
        data = bytes(value)
        try:
            self._retrying(f"conditional PUT {self.bucket}/{self._name(key)}", lambda: self.client._execute(
                "PUT", self.bucket, self._name(key), body=data,
                headers={"If-None-Match": "*", "Content-Type": "application/octet-stream"}))
            return True
        except S3Error as exc:
            if _lost_race(exc):
                return False
            raise

    supports_versions = True

    def get_versioned(self, key):
        return self._get(key)

    def put_if_version(self, key, value, version):
        """A PUT with If-Match: <ETag> (If-None-Match: * for ABSENT): a writer
        that lost a race to another one gets None (HTTP 412) instead of
        overwriting it."""
        if version is None:
            self.put(key, value)
            return self.get_versioned(key)[1]
        # unquoted: radosgw (Ceph 16) matches only the bare ETag; AWS and SeaweedFS take both
        condition = {"If-None-Match": "*"} if version == self.ABSENT else {"If-Match": version.strip('"')}
        data = bytes(value)
        try:
            response = self._retrying(f"conditional PUT {self.bucket}/{self._name(key)}", lambda: self.client._execute(
                "PUT", self.bucket, self._name(key), body=data,
                headers={**condition, "Content-Type": "application/octet-stream"}))
        except S3Error as exc:
            if _lost_race(exc):
                return None
            raise
        return response.headers.get("ETag")

    def delete(self, key):
        try:
            self._retrying("DELETE", lambda: self.client.remove_object(self.bucket, self._name(key)))
        except S3Error as exc:
            if not self._missing(exc):
                raise

    def delete_prefix(self, prefix):
        """Every key under ``prefix`` in multi-object DELETE requests (up to
        1000 keys each) instead of one request per chunk."""
        from minio.deleteobjects import DeleteObject

        names = [self._name(key) for key in self.list(prefix)]
        for start in range(0, len(names), 1000):
            batch = [DeleteObject(name) for name in names[start:start + 1000]]
            errors = self._retrying("DELETE objects", lambda: list(self.client.remove_objects(self.bucket, batch)))
            failed = [e for e in errors if e.code not in ("NoSuchKey", "NoSuchObject")]
            if failed:
                raise OSError(f"S3 server {self.config.host} did not delete {len(failed)} objects of "
                              f"{self.bucket}/{self._name(prefix)}: {failed[0].code} {failed[0].message}")

    def prepare_create(self) -> None:
        """Creating a file creates its bucket if needed; opening never does."""
        if not self._retrying("HEAD bucket", lambda: self.client.bucket_exists(self.bucket)):
            try:
                self._retrying("create bucket", lambda: self.client.make_bucket(self.bucket))
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
