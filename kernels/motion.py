"""Motion blur as imagecorruptions 1.1.2 computes it: Gaussian-weighted shifted copies."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
from numba import njit

from ._scratch import scratch
from ._validate import image_hwc
from .quantise import float_or_levels, quantise


@lru_cache(maxsize=64)
def _tap_weights(radius: int, sigma: float) -> np.ndarray:
    n = 2 * radius + 1
    weights = np.exp(-(np.arange(n) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)
    weights /= weights.sum()
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return weights


@njit(cache=True)
def _tap_shifts(n, py, px, hypot, height, width):
    """Shift ``i`` is ``-ceil(i * (py, px) / hypot - 0.5)``; the walk stops at the first that leaves the image."""
    shifts = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        dy = -np.int64(math.ceil(i * py / hypot - 0.5))
        dx = -np.int64(math.ceil(i * px / hypot - 0.5))
        if abs(dy) >= height or abs(dx) >= width:
            return shifts[:i]
        shifts[i, 0], shifts[i, 1] = dy, dx
    return shifts


def motion_taps(radius: int, sigma: float, angle: float, height: int, width: int):
    """The reference's taps: integer shifts ``(dy, dx)`` and their Gaussian weights.

    Width is ``2 * radius + 1``; the walk stops at the first shift that leaves the image,
    as the reference's ``break`` does.
    """
    n = 2 * radius + 1
    py, px = n * math.sin(math.radians(angle)), n * math.cos(math.radians(angle))
    shifts = _tap_shifts(n, py, px, math.hypot(py, px), height, width)
    return shifts, _tap_weights(radius, sigma)[: len(shifts)]


@njit(cache=True)
def _accumulate(padded, shifts, weights, pad_y, pad_x, channels, out, levels):
    """``out[y] = sum over taps of weights[t] * the padded row shifted by shifts[t]``, in tap order
    (rows of ``width * channels`` values); with ``levels`` non-empty the sums go there instead,
    truncated as ``quantise`` does, and no float image is kept."""
    quantised = levels.shape[0] > 0
    height, n = levels.shape if quantised else out.shape
    row = np.empty(n, dtype=np.float32)  # a private buffer, so LLVM can vectorise without alias checks
    taps = shifts.shape[0]
    grouped = taps - taps % 8
    for y in range(height):
        row[:] = 0
        # eight taps per pass, added in tap order (the same float sums as one tap at a time): the
        # row is loaded and stored once per eight taps
        for t in range(0, grouped, 8):
            s0 = padded[pad_y + y - shifts[t, 0], (pad_x - shifts[t, 1]) * channels :]
            s1 = padded[pad_y + y - shifts[t + 1, 0], (pad_x - shifts[t + 1, 1]) * channels :]
            s2 = padded[pad_y + y - shifts[t + 2, 0], (pad_x - shifts[t + 2, 1]) * channels :]
            s3 = padded[pad_y + y - shifts[t + 3, 0], (pad_x - shifts[t + 3, 1]) * channels :]
            s4 = padded[pad_y + y - shifts[t + 4, 0], (pad_x - shifts[t + 4, 1]) * channels :]
            s5 = padded[pad_y + y - shifts[t + 5, 0], (pad_x - shifts[t + 5, 1]) * channels :]
            s6 = padded[pad_y + y - shifts[t + 6, 0], (pad_x - shifts[t + 6, 1]) * channels :]
            s7 = padded[pad_y + y - shifts[t + 7, 0], (pad_x - shifts[t + 7, 1]) * channels :]
            w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
            w4, w5, w6, w7 = weights[t + 4], weights[t + 5], weights[t + 6], weights[t + 7]
            for k in range(n):
                r = row[k] + w0 * s0[k]
                r = r + w1 * s1[k]
                r = r + w2 * s2[k]
                r = r + w3 * s3[k]
                r = r + w4 * s4[k]
                r = r + w5 * s5[k]
                r = r + w6 * s6[k]
                row[k] = r + w7 * s7[k]
        for t in range(grouped, taps):
            start = (pad_x - shifts[t, 1]) * channels
            src = padded[pad_y + y - shifts[t, 0], start : start + n]
            w = weights[t]
            for k in range(n):
                row[k] += w * src[k]
        if quantised:
            dst = levels[y]
            for k in range(n):
                dst[k] = quantise(row[k])
        else:
            out[y] = row


def motion_blur(image: np.ndarray, shifts: np.ndarray, weights: np.ndarray, *, quantised: bool = False) -> np.ndarray:
    """Sum ``weights[t] * image shifted by shifts[t]``, replicating the edge like the reference's ``shift``.

    Parameters
    ----------
    image : float32 array, H x W x C
    shifts, weights : from :func:`motion_taps`.
    quantised : return uint8 levels, truncated as the reference does (``to_uint8`` of the float
        result, bit for bit), without a float image in between.
    """
    image = image_hwc(image)
    height, width, channels = image.shape
    out = np.empty(image.shape, dtype=np.uint8 if quantised else np.float32)
    if len(shifts) == 0:
        out[:] = 0
        return out
    pad_y = int(np.abs(shifts[:, 0]).max())
    pad_x = int(np.abs(shifts[:, 1]).max())
    padded_shape = (height + 2 * pad_y, width + 2 * pad_x, channels)
    if channels <= 4:  # OpenCV's limit
        padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE,
                                    dst=scratch("motion.padded", padded_shape))  # fmt: skip
    else:
        padded = np.pad(image, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="edge")
    padded = padded.reshape(padded_shape[0], padded_shape[1] * channels)
    floats, levels = float_or_levels(out.reshape(height, -1))
    _accumulate(padded, shifts, weights.astype(np.float32), pad_y, pad_x, channels, floats, levels)
    return out
