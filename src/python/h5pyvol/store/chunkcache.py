"""Decoded chunks a reader keeps, so that small reads near each other cost
one fetch per chunk instead of one per call.

HDF5 keeps a chunk cache per dataset (H5Pset_chunk_cache); this is the
store's.  It serves files opened read-only only (a writer's reads stay
exact under other writers' compare-and-swap updates), and it is emptied
whenever the file is brought up to date with other processes (H5Drefresh,
H5Orefresh, reopening), which is when HDF5's own cache is too.

Admission follows the access: the first small read of a chunk fetches only
the bytes it needs (a range) and remembers the chunk; the second loads and
keeps the whole chunk.  Random reads that never come back to a chunk pay
nothing, and an element-by-element loop pays one fetch per chunk.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional

import numpy as np


class ChunkCache:
    """Least recently used chunks up to ``capacity`` bytes, by chunk key."""

    SEEN = 65536  # chunk keys remembered as read once by range

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0
        self._chunks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()  # the store's workers and the host's threads share it

    def get(self, key: str) -> Optional[np.ndarray]:
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is not None:
                self._chunks.move_to_end(key)
            return chunk

    def put(self, key: str, chunk: np.ndarray) -> None:
        size = chunk.nbytes
        if size > self.capacity:
            return
        chunk.flags.writeable = False  # handed to every later reader: nobody may change it
        with self._lock:
            old = self._chunks.pop(key, None)
            if old is not None:
                self.used -= old.nbytes
            self._chunks[key] = chunk
            self.used += size
            while self.used > self.capacity:
                _, evicted = self._chunks.popitem(last=False)
                self.used -= evicted.nbytes

    def read_before(self, key: str) -> bool:
        """Was ``key`` read by range before?  Remembers that it now was."""
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            self._seen[key] = None
            if len(self._seen) > self.SEEN:
                self._seen.popitem(last=False)
            return False

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._seen.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._chunks)
