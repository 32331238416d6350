"""Float [0, 1] -> uint8 as the reference does it: clip, scale by 255, truncate."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def quantise(v):
    """One value in [0, 1] (clipped) -> uint8, truncating like ``np.uint8(v * 255)``; for fused kernels."""
    v = v * 255.0
    if v <= 0.0:
        return np.uint8(0)
    if v >= 255.0:
        return np.uint8(255)
    return np.uint8(v)


@njit(cache=True)
def _to_uint8(values):
    flat = values.reshape(-1)
    out = np.empty(flat.size, dtype=np.uint8)
    for i in range(flat.size):
        out[i] = quantise(flat[i])
    return out.reshape(values.shape)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """``np.clip(values * 255, 0, 255).astype(np.uint8)`` in one pass; uint8 input comes back as is."""
    if values.dtype == np.uint8:
        return values
    return _to_uint8(np.ascontiguousarray(values, dtype=np.float32))
