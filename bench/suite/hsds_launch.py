"""Runs one HSDS node (what the ``hsds-node`` console script runs) with its
HTTP server bound to 127.0.0.1.  Run by bench/suite/hsds_peer.py with the python
of the HSDS virtualenv and the node's ``--node_type=...`` arguments.

HSDS 1.0.2 starts every node with ``aiohttp.web.run_app(app, port=...)`` and
no host, which listens on all interfaces (0.0.0.0 and [::]); neither its
config nor its command line can change that.  So this wrapper gives run_app a
default host before hsds imports it, in this process only; the installed
package is left as it is.
"""
import sys

import aiohttp.web

_run_app = aiohttp.web.run_app


def _run_app_on_loopback(app, **kwargs):
    if kwargs.get("sock") is None and kwargs.get("path") is None:
        kwargs.setdefault("host", "127.0.0.1")
    return _run_app(app, **kwargs)


aiohttp.web.run_app = _run_app_on_loopback

# imported after the patch: hsds.servicenode and hsds.datanode do
# ``from aiohttp.web import run_app`` at import time
from hsds.node_runner import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
