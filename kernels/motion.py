"""Motion blur as imagecorruptions 1.1.2 computes it: Gaussian-weighted shifted copies."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numba import njit

from ._scratch import scratch
from ._validate import image_hwc


def motion_taps(radius: int, sigma: float, angle: float, height: int, width: int):
    """The reference's taps: integer shifts ``(dy, dx)`` and their Gaussian weights.

    Width is ``2 * radius + 1``; the walk stops at the first shift that leaves the image,
    as the reference's ``break`` does.
    """
    n = 2 * radius + 1
    weights = np.exp(-(np.arange(n) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)
    weights /= weights.sum()
    py, px = n * math.sin(math.radians(angle)), n * math.cos(math.radians(angle))
    hypot = math.hypot(py, px)
    shifts, taps = [], []
    for i in range(n):
        dy = -math.ceil(i * py / hypot - 0.5)
        dx = -math.ceil(i * px / hypot - 0.5)
        if abs(dy) >= height or abs(dx) >= width:
            break
        shifts.append((dy, dx))
        taps.append(weights[i])
    return np.array(shifts, dtype=np.int64).reshape(-1, 2), np.array(taps, dtype=np.float32)


@njit(cache=True)
def _accumulate(padded, shifts, weights, pad_y, pad_x, height, width, channels):
    n = width * channels
    out = np.empty((height, n), dtype=np.float32)
    row = np.empty(n, dtype=np.float32)  # a private buffer, so LLVM can vectorise without alias checks
    for y in range(height):
        row[:] = 0
        for t in range(shifts.shape[0]):
            start = (pad_x - shifts[t, 1]) * channels
            src = padded[pad_y + y - shifts[t, 0], start : start + n]
            w = weights[t]
            for k in range(n):
                row[k] += w * src[k]
        out[y] = row
    return out


def motion_blur(image: np.ndarray, shifts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum ``weights[t] * image shifted by shifts[t]``, replicating the edge like the reference's ``shift``.

    Parameters
    ----------
    image : float32 array, H x W x C
    shifts, weights : from :func:`motion_taps`.
    """
    image = image_hwc(image)
    height, width, channels = image.shape
    if len(shifts) == 0:
        return np.zeros_like(image)
    pad_y = int(np.abs(shifts[:, 0]).max())
    pad_x = int(np.abs(shifts[:, 1]).max())
    padded_shape = (height + 2 * pad_y, width + 2 * pad_x, channels)
    if channels <= 4:  # OpenCV's limit
        padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE,
                                    dst=scratch("motion.padded", padded_shape))  # fmt: skip
    else:
        padded = np.pad(image, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="edge")
    padded = padded.reshape(padded_shape[0], padded_shape[1] * channels)
    out = _accumulate(padded, shifts, weights.astype(np.float32), pad_y, pad_x, height, width, channels)
    return out.reshape(height, width, channels)
