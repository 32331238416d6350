"""Per-thread work arrays that kernels reuse from call to call.

A corruption's temporaries (padded copies, prefix sums, blurred layers) are a few image-sized
arrays per call. Allocating them afresh costs more than the arithmetic on machines where the
C allocator hands large blocks back to the OS and every new page faults on first touch, so
each thread keeps them, growing only, up to ``KEEP_LIMIT`` bytes per temporary (larger ones,
for images of tens of megapixels, are allocated per call so that memory is given back). Never
return a scratch array, or a view of one: the next call on the thread overwrites it.
"""

from __future__ import annotations

import math
import threading

import numpy as np

_local = threading.local()
KEEP_LIMIT = 16 * 2**20  # a 1280 x 1024 RGB image in float32


def scratch(tag: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype``, contents undefined, owned by this thread
    and ``tag`` (one tag per temporary of a kernel)."""
    pool = _local.__dict__.setdefault("pool", {})
    shape = tuple(shape)
    entry = pool.get(tag)
    # the same request as last time (a kernel called on same-sized images): the same view, no NumPy calls
    if entry is not None and entry[1] == shape and entry[2] == dtype:
        return entry[3]
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    if size > KEEP_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffer = entry[0] if entry is not None and entry[0].size >= size else np.empty(max(size, 1), dtype=np.uint8)
    view = buffer[:size].view(dtype).reshape(shape)
    pool[tag] = (buffer, shape, dtype, view)
    return view
