"""A progress bar (tqdm) on a terminal, nothing when stderr is piped."""
from __future__ import annotations

import os
import sys
from typing import Callable, Optional, Union


class Progress:
    """``show``: True for a bar on stderr when stderr is a terminal, False
    for nothing, or a callable ``(done_bytes, total_bytes)`` called as the
    work advances (the Python API's hook)."""

    def __init__(self, show: Union[bool, Callable], total_bytes: int, total_objects: int = 0, done_bytes: int = 0,
                 description: str = "copy"):
        self.callback: Optional[Callable] = show if callable(show) else None
        self.total, self.done = total_bytes, done_bytes
        self.total_objects, self.objects = total_objects, 0
        self.bar = None
        if show is True and sys.stderr.isatty():
            from tqdm import tqdm
            try:
                columns = os.get_terminal_size(sys.stderr.fileno()).columns
            except OSError:
                columns = 0
            # a terminal that tells no size (0x0) would hide the bar
            width = {"dynamic_ncols": True} if columns else {"ncols": 100, "nrows": 24}
            self.bar = tqdm(total=total_bytes, initial=done_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=description, file=sys.stderr, smoothing=0.1, **width)
            self._postfix()

    def _postfix(self) -> None:
        if self.bar is not None and self.total_objects:
            self.bar.set_postfix_str(f"{self.objects}/{self.total_objects} objects", refresh=False)

    def objects_done(self, n: int) -> None:
        self.objects += n
        self._postfix()

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        if self.bar is not None:
            self.bar.update(nbytes)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
