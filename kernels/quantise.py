"""Float [0, 1] -> uint8 as the reference does it: clip, scale by 255, truncate."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _to_uint8(values):
    flat = values.reshape(-1)
    out = np.empty(flat.size, dtype=np.uint8)
    for i in range(flat.size):
        v = flat[i] * 255.0
        out[i] = 0 if v <= 0.0 else (255 if v >= 255.0 else np.uint8(v))
    return out.reshape(values.shape)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """``np.clip(values * 255, 0, 255).astype(np.uint8)`` in one pass."""
    return _to_uint8(np.ascontiguousarray(values, dtype=np.float32))
