"""Zoom blur: the average of centred zooms, with scipy.ndimage.zoom's geometry, in Numba."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._validate import image_hwc


def _axis_map(n_in: int, zoom: float, n_keep: int | None):
    """Source index and weight per output index along one axis, as ``scipy.ndimage.zoom(order=1)``.

    The centre ``ceil(n_in / zoom)`` samples are cropped and scaled to ``round(crop * zoom)``
    samples; output ``o`` reads crop position ``o * (crop - 1) / (n_out - 1)``.
    """
    crop = int(math.ceil(n_in / zoom))
    start = (n_in - crop) // 2
    n_out = int(round(crop * zoom))
    step = (crop - 1) / (n_out - 1) if n_out > 1 else 0.0
    pos = np.arange(n_out if n_keep is None else min(n_out, n_keep)) * step
    lower = np.minimum(np.floor(pos).astype(np.int64), crop - 1)
    upper = np.minimum(lower + 1, crop - 1)
    return start + lower, start + upper, (pos - lower).astype(np.float32)


@njit(cache=True)
def _zoom_into(image, out, y_lo, y_hi, wy, x_lo, x_hi, wx):
    channels = image.shape[2]
    n_in = image.shape[1] * channels
    n_out = out.shape[1] * channels
    src = image.reshape(image.shape[0], n_in)
    dst = out.reshape(out.shape[0], n_out)
    # flattened (x, c) gather indices, so both passes are single loops over a row
    lo = np.empty(n_out, dtype=np.int64)
    hi = np.empty(n_out, dtype=np.int64)
    wk = np.empty(n_out, dtype=np.float32)
    for x in range(out.shape[1]):
        for c in range(channels):
            lo[x * channels + c] = x_lo[x] * channels + c
            hi[x * channels + c] = x_hi[x] * channels + c
            wk[x * channels + c] = wx[x]
    row = np.empty(n_in, dtype=np.float32)
    for y in range(out.shape[0]):
        a, b, w = src[y_lo[y]], src[y_hi[y]], wy[y]
        for k in range(n_in):
            row[k] = a[k] + w * (b[k] - a[k])
        d = dst[y]
        for k in range(n_out):
            d[k] += row[lo[k]] + wk[k] * (row[hi[k]] - row[lo[k]])


def clipped_zoom(image: np.ndarray, zoom: float, *, trim: bool = True) -> np.ndarray:
    """Crop the centre ``ceil(side / zoom)`` and scale it back up bilinearly.

    The reference's ``clipped_zoom`` geometry; it does not trim the result (it can be a
    pixel larger than the input), ``trim=True`` cuts it to the input's size.
    """
    image = image_hwc(image)
    height, width = image.shape[:2]
    rows = _axis_map(height, zoom, height if trim else None)
    cols = _axis_map(width, zoom, width if trim else None)
    out = np.zeros((len(rows[0]), len(cols[0]), image.shape[2]), dtype=np.float32)
    _zoom_into(image, out, *rows, *cols)
    return out


def zoom_blur(image: np.ndarray, zooms) -> np.ndarray:
    """``(image + sum of clipped zooms) / (len(zooms) + 1)``."""
    image = image_hwc(image)
    height, width = image.shape[:2]
    acc = image.copy()
    for zoom in zooms:
        _zoom_into(image, acc, *_axis_map(height, float(zoom), height), *_axis_map(width, float(zoom), width))
    acc *= np.float32(1.0 / (len(zooms) + 1))
    return acc
