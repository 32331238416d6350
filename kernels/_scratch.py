"""Per-thread work arrays that kernels reuse from call to call.

A corruption's temporaries (padded copies, prefix sums, blurred layers) are a few image-sized
arrays per call. Allocating them afresh costs more than the arithmetic on machines where the
C allocator hands large blocks back to the OS and every new page faults on first touch, so
each thread keeps them, growing only, up to ``KEEP_LIMIT`` bytes per temporary (larger ones,
for images of tens of megapixels, are allocated per call so that memory is given back). Never
return a scratch array, or a view of one: the next call on the thread overwrites it.
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()
KEEP_LIMIT = 16 * 2**20  # a 1280 x 1024 RGB image in float32


def scratch(tag: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype``, contents undefined, owned by this thread
    and ``tag`` (one tag per temporary of a kernel)."""
    pool = _local.__dict__.setdefault("pool", {})
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size > KEEP_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffer = pool.get(tag)
    if buffer is None or buffer.size < size:
        buffer = np.empty(max(size, 1), dtype=np.uint8)
        pool[tag] = buffer
    return buffer[:size].view(dtype).reshape(shape)
