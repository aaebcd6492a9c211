"""``--jobs N``: a copy's data pass in N worker processes.

Threads would not help: h5py holds one lock around every HDF5 call, and
HDF5 itself is serial.  Processes each have their own HDF5.  Into a store,
each worker writes its pieces itself: the store takes writers of disjoint
chunks at once (the concurrency model in README), so object-store latency
overlaps N ways.  Into a native file, which only one process may write,
the workers read and the parent writes.

Workers are spawned, not forked: the parent has HDF5, the plugin and
possibly librados threads running, none of which survive a fork.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Optional

from .. import files

BATCH_BYTES = 16 << 20  # pieces handed to a worker at a time

_src = _dst = None


def _open(src: str, dst: str, src_format: Optional[str], dst_format: Optional[str], writes: bool) -> None:
    global _src, _dst
    _src = files.open_file(src, "r", format=src_format)
    _dst = files.open_file(dst, "r+", format=dst_format) if writes else None


def _move(batch: list) -> int:
    from .copy import move_piece
    for piece in batch:
        move_piece(_src, _dst, piece)
    _dst.flush()  # durable before the parent counts it (a resumed copy trusts what is there)
    return sum(p.nbytes for p in batch)


def _read(batch: list) -> list:
    from .copy import read_raw
    return [(piece, read_raw(_src[piece.path], piece)) for piece in batch]


def _batches(pieces: list) -> list:
    batches, current, size = [], [], 0
    for piece in pieces:
        current.append(piece)
        size += piece.nbytes
        if size >= BATCH_BYTES:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def move_in_workers(src: str, dst: str, src_format, dst_format, pieces: list, jobs: int, bar, summary) -> None:
    """Moves ``pieces`` from ``src`` to ``dst`` in ``jobs`` processes,
    advancing ``bar`` and counting into ``summary`` as batches finish."""
    into_store = files.kind_of(dst, dst_format) == files.STORE
    context = multiprocessing.get_context("spawn")
    batches = _batches(pieces)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_open,
                             initargs=(src, dst, src_format, dst_format, into_store)) as pool:
        if into_store:
            running = {pool.submit(_move, batch): batch for batch in batches}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = running.pop(future)
                    nbytes = future.result()
                    summary.pieces += len(batch)
                    summary.bytes += nbytes
                    bar.advance(nbytes)
            return
        from .copy import write_raw
        target = files.open_file(dst, "r+", format=dst_format)
        try:
            # at most 2 batches per worker read ahead: memory stays bounded
            queue, running = list(batches), {}
            while queue or running:
                while queue and len(running) < 2 * jobs:
                    running[pool.submit(_read, queue.pop(0))] = True
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    for piece, raw in future.result():
                        write_raw(target[piece.path], piece, raw)
                        summary.pieces += 1
                        summary.bytes += piece.nbytes
                        bar.advance(piece.nbytes)
        finally:
            target.close()
