"""Where the S3 server is and who we are, the way S3 users already say it:
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (http:// means no TLS); each
overridable per file by a key of the connector info string
(``access_key``, ``secret_key``, ``session_token``, ``region``,
``endpoint``)."""
from __future__ import annotations

import ipaddress
import os
import warnings
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlparse

DEFAULT_ENDPOINT = "https://s3.amazonaws.com"
CONNECT_TIMEOUT = 10.0  # seconds
READ_TIMEOUT = 120.0
POOL_SIZE = 32


_warned: set = set()


def _warn_once(text: str) -> None:
    if text not in _warned:
        _warned.add(text)
        warnings.warn(text, UserWarning, stacklevel=3)


def _loopback(host: Optional[str]) -> bool:
    if host in ("localhost", None):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class S3Config:
    host: str            # host[:port]
    secure: bool
    access_key: Optional[str]
    # never in a repr, a traceback's locals or a log line
    secret_key: Optional[str] = field(repr=False)
    session_token: Optional[str] = field(repr=False)
    region: Optional[str] = None

    @classmethod
    def resolve(cls, options: dict, environ=os.environ) -> "S3Config":
        def pick(key: str, *names: str) -> Optional[str]:
            if options.get(key):
                return options[key]
            return next((environ[n] for n in names if environ.get(n)), None)

        endpoint = pick("endpoint", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        parsed = urlparse(endpoint)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"S3 endpoint {endpoint!r} is not an http:// or https:// URL")
        if parsed.username or parsed.password:  # never echoed: it would print the secret
            raise ValueError("an S3 endpoint URL carries no credentials: give them as access_key= and secret_key= "
                             "or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        if parsed.scheme == "http" and not _loopback(parsed.hostname):
            _warn_once(f"S3 endpoint {endpoint} is http://: no TLS, so requests (signed, not encrypted) and data "
                       f"cross the network in clear; use https:// unless the network is yours")
        return cls(host=parsed.netloc, secure=parsed.scheme == "https",
                   access_key=pick("access_key", "AWS_ACCESS_KEY_ID"),
                   secret_key=pick("secret_key", "AWS_SECRET_ACCESS_KEY"),
                   session_token=pick("session_token", "AWS_SESSION_TOKEN"),
                   region=pick("region", "AWS_REGION", "AWS_DEFAULT_REGION"))

    def client(self):
        import certifi
        import urllib3
        from minio import Minio

        # retries are ours (kv.py: backoff, then a clear error), so the pool
        # makes one try per call; enough connections for the chunk workers
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT), maxsize=POOL_SIZE,
            retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0),
            cert_reqs="CERT_REQUIRED", ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where())
        return Minio(self.host, access_key=self.access_key, secret_key=self.secret_key,
                     session_token=self.session_token, secure=self.secure, region=self.region, http_client=http)
