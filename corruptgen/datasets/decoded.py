"""Sources decoded as a whole (MNIST's idx files, CIFAR's batches), kept once per process.

An adapter travels to a worker pickled with every shard (and every Dask task), so what it decoded
cannot live on the adapter: a worker would decompress the whole source again for each shard it runs
(157 times for CIFAR-10's test split from its ``.tar.gz``). Here the decoded arrays stay in the worker
process, keyed by the files they came from (path, size, modification time: a changed file is decoded
anew), and every later shard, runner unit or Dask task in that process reuses them. The arrays are
made read-only, since every user shares them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

KEEP = 4
"""Decoded sources a process keeps (MNIST's two splits, CIFAR's test and train split): the oldest goes first."""

_cache: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()  # the runner's loader threads ask at once: decode once, not once per thread


def file_identity(path: Path) -> tuple:
    """What says a file is the same one: its resolved path, size and modification time (None when it
    cannot be read: the decoder then says why)."""
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), None)
    return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def decoded(key: tuple, decode: Callable[[], T]) -> T:
    """``decode()``'s result for ``key`` (which names the files it reads, by :func:`file_identity`),
    computed once per process; an error is raised each time, never kept."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]  # type: ignore[return-value]
        value = decode()
        for array in value if isinstance(value, tuple) else (value,):
            if hasattr(array, "flags"):
                array.flags.writeable = False
        _cache[key] = value
        while len(_cache) > KEEP:
            _cache.popitem(last=False)
        return value


def clear() -> None:
    """Forget every decoded source (tests; a long-lived process that wants its memory back)."""
    with _lock:
        _cache.clear()
