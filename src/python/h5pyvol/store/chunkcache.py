"""Decoded chunks a reader keeps, so that small reads near each other cost
one fetch per chunk instead of one per call.

HDF5 keeps a chunk cache per dataset (H5Pset_chunk_cache); this is the
store's.  It serves files opened read-only only (a writer's reads stay
exact under other writers' compare-and-swap updates), and it is emptied
whenever the file is brought up to date with other processes (H5Drefresh,
H5Orefresh, reopening), which is when HDF5's own cache is too.

Admission follows the access: the first small read of a chunk fetches only
the bytes it needs (a range) and remembers the chunk; a second one soon
after (fewer than WINDOW other ranged reads in between) loads and keeps the whole
chunk.  An element-by-element loop, or a loop over rows that cross a few
chunks, pays one fetch per chunk.  Random reads pay nothing: the ones that
come back to a chunk long after go on reading ranges, since loading whole
chunks for them made 1000 random 64 KiB reads of 1 GiB 3x slower (the
cache churns: bench/suite/partial.py).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional

import numpy as np


class ChunkCache:
    """Least recently used chunks up to ``capacity`` bytes, by chunk key."""

    WINDOW = 32  # a second ranged read of a chunk this soon after its last admits it

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0
        self._chunks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._seen: OrderedDict[str, int] = OrderedDict()  # chunk key: number of its last ranged read
        self._ranged_reads = 0
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

    def discard(self, key: str) -> None:
        with self._lock:
            chunk = self._chunks.pop(key, None)
            if chunk is not None:
                self.used -= chunk.nbytes

    def read_before(self, key: str) -> bool:
        """Was ``key`` read by range, with fewer than WINDOW other ranged reads since?
        Remembers that it now was."""
        with self._lock:
            now = self._ranged_reads
            self._ranged_reads += 1
            last = self._seen.pop(key, None)
            self._seen[key] = now
            while next(iter(self._seen.values())) < now - self.WINDOW:
                self._seen.popitem(last=False)
            return last is not None and now - last <= self.WINDOW

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._seen.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._chunks)
