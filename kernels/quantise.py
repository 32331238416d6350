"""uint8 <-> float [0, 1] as the references do it: divide by 255; clip, scale by 255, and truncate
(ImageNet-C's ``np.uint8(x)``) or, for MNIST-C, round (its ``np.round(x).astype(np.uint8)``)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def to_level(v, rounded):
    """One value in [0, 1] (clipped) -> uint8: truncated like ``np.uint8(v * 255)``, or with
    ``rounded`` rounded half to even like ``np.round(v * 255)``; for kernels that serve both."""
    v = v * 255.0
    if v <= 0.0:
        return np.uint8(0)
    if v >= 255.0:
        return np.uint8(255)
    return np.uint8(np.rint(v)) if rounded else np.uint8(v)


@njit(cache=True)
def quantise(v):
    """One value in [0, 1] (clipped) -> uint8, truncating like ``np.uint8(v * 255)``; for fused kernels."""
    return to_level(v, False)


@njit(cache=True)
def _to_uint8(values, rounded):
    flat = values.reshape(-1)
    out = np.empty(flat.size, dtype=np.uint8)
    for i in range(flat.size):
        out[i] = to_level(flat[i], rounded)
    return out.reshape(values.shape)


def to_uint8(values: np.ndarray, *, rounded: bool = False) -> np.ndarray:
    """``np.clip(values * 255, 0, 255).astype(np.uint8)`` in one pass, or with ``rounded``
    ``np.round(...)`` before the cast; uint8 input comes back as is.

    >>> to_uint8(np.float32([0.5, 1 / 3])), to_uint8(np.float32([0.5, 1 / 3]), rounded=True)
    (array([127,  85], dtype=uint8), array([128,  85], dtype=uint8))
    """
    if values.dtype == np.uint8:
        return values
    return _to_uint8(np.ascontiguousarray(values, dtype=np.float32), bool(rounded))


@njit(cache=True)
def _to_unit(levels, out):
    flat, dst = levels.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        dst[i] = np.float32(flat[i]) * np.float32(1 / 255)


def to_unit(levels: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``levels / 255`` as float32 into ``out`` (C-contiguous, the same shape), bit for bit
    ``np.multiply(levels, np.float32(1 / 255), dtype=np.float32)`` in a quarter of its time."""
    _to_unit(np.ascontiguousarray(levels), out)
    return out


def float_or_levels(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(floats, levels)`` for a kernel that writes float32 sums or, fused, their uint8 levels
    (``quantise``): ``rows`` (2-D, rows x values) where its dtype says, and an empty array of the
    other dtype in the other place; the kernel tells them apart by ``levels.shape[0] > 0``."""
    quantised = rows.dtype == np.uint8
    empty = np.empty((0, rows.shape[1]), dtype=np.float32 if quantised else np.uint8)
    return (empty, rows) if quantised else (rows, empty)
