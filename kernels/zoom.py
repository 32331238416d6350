"""Zoom blur: the average of centred zooms, with scipy.ndimage.zoom's geometry, in Numba."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._validate import image_hwc


def _axis_map(n_in: int, zoom: float, n_keep: int | None, centre: bool = False):
    """Source index and weight per output index along one axis, as ``scipy.ndimage.zoom(order=1)``.

    The centre ``ceil(n_in / zoom)`` samples are cropped and scaled to ``round(crop * zoom)``
    samples; output ``o`` reads crop position ``o * (crop - 1) / (n_out - 1)``. ``n_keep`` keeps
    that many outputs: the first ones, or with ``centre`` the central ones (offset
    ``(n_out - n_keep) // 2``, Hendrycks' ``clipped_zoom`` trim).
    """
    crop = int(math.ceil(n_in / zoom))
    start = (n_in - crop) // 2
    n_out = int(round(crop * zoom))
    step = (crop - 1) / (n_out - 1) if n_out > 1 else 0.0
    first = max(n_out - n_keep, 0) // 2 if (centre and n_keep is not None) else 0
    pos = (first + np.arange(n_out - first if n_keep is None else min(n_out - first, n_keep))) * step
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


def clipped_zoom(image: np.ndarray, zoom: float, *, trim: str = "start") -> np.ndarray:
    """Crop the centre ``ceil(side / zoom)`` and scale it back up bilinearly.

    ``trim``: ``"none"`` keeps the whole zoomed result, which is ``round(ceil(side / zoom) *
    zoom)`` samples, up to ``zoom`` pixels larger than the input (imagecorruptions 1.1.2's
    ``clipped_zoom``); ``"start"`` cuts it to the input's size from the top-left (what indexing
    ``[:H, :W]`` does); ``"centre"`` cuts it centrally (Hendrycks' ``make_cifar_c.py`` /
    ``make_tinyimagenet_c.py`` ``clipped_zoom``).
    """
    if trim not in ("none", "start", "centre"):
        raise ValueError(f"trim must be 'none', 'start' or 'centre'; got {trim!r}.")
    image = image_hwc(image)
    height, width = image.shape[:2]
    keep = trim != "none"
    rows = _axis_map(height, zoom, height if keep else None, trim == "centre")
    cols = _axis_map(width, zoom, width if keep else None, trim == "centre")
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
