"""Zoom blur: the average of centred zooms, with scipy.ndimage.zoom's geometry, in Numba."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from ._validate import image_hwc


def centre_crop_size(side: int, zoom: float) -> int:
    """How many samples :func:`clipped_zoom` reads along an axis: the centre ``ceil(side / zoom)``."""
    return int(math.ceil(side / zoom))


@lru_cache(maxsize=256)
def _axis_map(n_in: int, zoom: float, n_keep: int | None, centre: bool = False):
    """Source index and weight per output index along one axis, as ``scipy.ndimage.zoom(order=1)``
    (read-only, cached).

    The centre ``ceil(n_in / zoom)`` samples are cropped and scaled to ``round(crop * zoom)``
    samples; output ``o`` reads crop position ``o * (crop - 1) / (n_out - 1)``. ``n_keep`` keeps
    that many outputs: the first ones, or with ``centre`` the central ones (offset
    ``(n_out - n_keep) // 2``, Hendrycks' ``clipped_zoom`` trim).
    """
    crop = centre_crop_size(n_in, zoom)
    start = (n_in - crop) // 2
    n_out = int(round(crop * zoom))
    step = (crop - 1) / (n_out - 1) if n_out > 1 else 0.0
    first = max(n_out - n_keep, 0) // 2 if (centre and n_keep is not None) else 0
    pos = (first + np.arange(n_out - first if n_keep is None else min(n_out - first, n_keep))) * step
    lower = np.minimum(np.floor(pos).astype(np.int64), crop - 1)
    upper = np.minimum(lower + 1, crop - 1)
    axis = (start + lower, start + upper, (pos - lower).astype(np.float32))
    for array in axis:  # cached: shared by every caller
        array.setflags(write=False)
    return axis


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


def zoom_centre(crop: np.ndarray, zoom: float, height: int, width: int, *, trim: str = "start") -> np.ndarray:
    """Scale a centre crop that the caller already cut (``centre_crop_size`` per axis of an
    ``height x width`` image) back up as :func:`clipped_zoom` does; the same ``trim``."""
    if trim not in ("none", "start", "centre"):
        raise ValueError(f"trim must be 'none', 'start' or 'centre'; got {trim!r}.")
    crop = image_hwc(crop, "crop")
    expected = (centre_crop_size(height, zoom), centre_crop_size(width, zoom))
    if crop.shape[:2] != expected:
        raise ValueError(f"crop must be {expected} for a {height} x {width} image at zoom {zoom}; got {crop.shape[:2]}.")
    keep = trim != "none"
    rows = _axis_map(height, zoom, height if keep else None, trim == "centre")
    cols = _axis_map(width, zoom, width if keep else None, trim == "centre")
    # _axis_map indexes the whole image; shift to the crop's own indices
    top, left = (height - expected[0]) // 2, (width - expected[1]) // 2
    rows = (rows[0] - top, rows[1] - top, rows[2])
    cols = (cols[0] - left, cols[1] - left, cols[2])
    out = np.zeros((len(rows[0]), len(cols[0]), crop.shape[2]), dtype=np.float32)
    _zoom_into(crop, out, *rows, *cols)
    return out


def clipped_zoom(image: np.ndarray, zoom: float, *, trim: str = "start") -> np.ndarray:
    """Crop the centre ``ceil(side / zoom)`` and scale it back up bilinearly.

    ``trim``: ``"none"`` keeps the whole zoomed result, which is ``round(ceil(side / zoom) *
    zoom)`` samples, up to ``zoom`` pixels larger than the input (imagecorruptions 1.1.2's
    ``clipped_zoom``); ``"start"`` cuts it to the input's size from the top-left (what indexing
    ``[:H, :W]`` does); ``"centre"`` cuts it centrally (Hendrycks' ``make_cifar_c.py`` /
    ``make_tinyimagenet_c.py`` ``clipped_zoom``).
    """
    image = image_hwc(image)
    height, width = image.shape[:2]
    ch, cw = centre_crop_size(height, zoom), centre_crop_size(width, zoom)
    top, left = (height - ch) // 2, (width - cw) // 2
    return zoom_centre(np.ascontiguousarray(image[top : top + ch, left : left + cw]), zoom, height, width, trim=trim)


@lru_cache(maxsize=64)
def _zoom_plan(height: int, width: int, channels: int, zooms: tuple[float, ...]):
    """Per zoom: each output row's two source rows and weight, the crop's first column and
    width, and the output row cut into runs that read the blended crop row at one offset.

    Along a row, output column ``x`` reads crop column ``floor(x * step)`` with ``step <= 1``:
    the shift ``x - floor(x * step)`` only grows, one step at a time, so the output is a few
    dozen runs that each read a contiguous stretch of the crop (SIMD loads, not a gather).
    Runs are in flattened ``(x, channel)`` units; ``weights`` is each element's column weight.
    """
    rows = [_axis_map(height, z, height) for z in zooms]
    cols = [_axis_map(width, z, width) for z in zooms]
    y_lo = np.stack([r[0] for r in rows]).astype(np.int64)
    y_hi = np.stack([r[1] for r in rows]).astype(np.int64)
    wy = np.stack([r[2] for r in rows])
    first = np.array([lo.min() for lo, _, _ in cols], dtype=np.int64)
    span = np.array([hi.max() - lo.min() + 1 for lo, hi, _ in cols], dtype=np.int64)
    shifts = [np.arange(width) - (lo - lo.min()) for lo, _, _ in cols]
    bounds = [np.concatenate([[0], np.flatnonzero(np.diff(shift)) + 1, [width]]) for shift in shifts]
    n_runs = np.array([len(b) - 1 for b in bounds], dtype=np.int64)
    run_start = np.zeros((len(zooms), n_runs.max() + 1), dtype=np.int64)
    run_shift = np.zeros((len(zooms), n_runs.max()), dtype=np.int64)
    for z, (b, shift) in enumerate(zip(bounds, shifts)):
        run_start[z, : len(b)] = b * channels
        run_shift[z, : len(b) - 1] = shift[b[:-1]] * channels
    # where a column is clamped at the crop's edge its right neighbour has weight 0: read the
    # padding after the row (finite) rather than branch
    weights = np.repeat(np.stack([w for _, _, w in cols]), channels, axis=1)
    plan = (y_lo, y_hi, wy, first, span, n_runs, run_start, run_shift, weights)
    for array in plan:
        array.setflags(write=False)
    return plan


@njit(cache=True)
def _zoom_sum(image, acc, y_lo, y_hi, wy, first, span, n_runs, run_start, run_shift, weights):
    """``acc += sum of the zooms``, one output row at a time (the row stays in cache across zooms)."""
    height, width, channels = image.shape
    n = width * channels
    src = image.reshape(height, n)
    dst = acc.reshape(height, n)
    row = np.zeros(n + channels, dtype=np.float32)
    for y in range(height):
        d = dst[y]
        for z in range(y_lo.shape[0]):
            start, count = first[z] * channels, span[z] * channels
            a = src[y_lo[z, y]][start : start + count]  # slices: the row blend is a SIMD loop
            b = src[y_hi[z, y]][start : start + count]
            w = wy[z, y]
            r = row[:count]
            for k in range(count):
                r[k] = a[k] + w * (b[k] - a[k])
            for c in range(channels):
                row[count + c] = row[count - channels + c]
            for j in range(n_runs[z]):
                k0, k1, shift = run_start[z, j], run_start[z, j + 1], run_shift[z, j]
                left = row[k0 - shift : k1 - shift]
                right = row[k0 - shift + channels : k1 - shift + channels]
                out, wk = d[k0:k1], weights[z, k0:k1]
                for k in range(k1 - k0):
                    out[k] += left[k] + wk[k] * (right[k] - left[k])


def zoom_blur(image: np.ndarray, zooms) -> np.ndarray:
    """``(image + sum of clipped zooms) / (len(zooms) + 1)``, in one pass over the output rows."""
    image = image_hwc(image)
    height, width = image.shape[:2]
    acc = image.copy()
    _zoom_sum(image, acc, *_zoom_plan(height, width, image.shape[2], tuple(float(z) for z in zooms)))
    acc *= np.float32(1.0 / (len(zooms) + 1))
    return acc
