"""Parallel streaming reads of any H5PyVOL or native HDF5 file, with
multitables' API: worker processes read blocks into shared memory.

    from h5pyvol.stream import Streamer
    queue = Streamer("data.h5pyvol").get_queue("/x", n_procs=4)
    for guard in queue.iter():
        with guard as block:     # a view of shared memory, valid in the block
            total += block.sum()

``Reader`` serves random-access requests into stages you create.
"""
from .reader import Dataset, Reader
from .request import Request, RequestPool
from .signals import (QueueClosed, QueueClosedException, ReleasedResourceError, SubprocessException,
                      WorkerDied)
from .stage import Stage, StagePool, StageTooSmall
from .streamer import Streamer

__all__ = ["Streamer", "Reader", "Dataset", "Request", "RequestPool", "Stage", "StagePool", "StageTooSmall",
           "QueueClosed", "QueueClosedException", "SubprocessException", "ReleasedResourceError", "WorkerDied"]
