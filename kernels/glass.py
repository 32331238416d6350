"""Glass blur's local pixel shuffle, the reference's slowest loop, as a Numba kernel."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import image_hwc
from .filters import gaussian_filter


def glass_offset_count(height: int, width: int, max_delta: int) -> tuple[int, int]:
    """How many rows and columns the shuffle visits: ``range(H - d, d, -1)`` and likewise for W."""
    return max(height - 2 * max_delta, 0), max(width - 2 * max_delta, 0)


@njit(cache=True)
def _shuffle(pixels, offsets, max_delta, swap):
    height, width, channels = pixels.shape
    iterations, n_rows, n_cols, _ = offsets.shape
    for it in range(iterations):
        for i in range(n_rows):
            h = height - max_delta - i
            for j in range(n_cols):
                w = width - max_delta - j
                hp = h + offsets[it, i, j, 1]
                wp = w + offsets[it, i, j, 0]
                for c in range(channels):
                    other = pixels[hp, wp, c]
                    if swap:
                        pixels[hp, wp, c] = pixels[h, w, c]
                    pixels[h, w, c] = other


def glass_shuffle(pixels: np.ndarray, offsets: np.ndarray, max_delta: int, *, swap: bool = False) -> np.ndarray:
    """Walk the image bottom-right to top-left, moving each pixel's neighbour onto it.

    Parameters
    ----------
    pixels : uint8 array, H x W x C. Not modified; a shuffled copy is returned.
    offsets : int array, ``iterations x rows x cols x 2`` of (dx, dy) in ``[-max_delta, max_delta)``,
        rows and cols as :func:`glass_offset_count` gives them.
    max_delta : the reference's ``c[1]``.
    swap : ``False`` copies the neighbour onto the pixel, the reference's behaviour on RGB
        arrays (its tuple "swap" of two NumPy views copies); ``True`` exchanges the two.
    """
    pixels = image_hwc(pixels, "pixels", np.uint8).copy()
    offsets = np.ascontiguousarray(offsets)
    rows, cols = glass_offset_count(pixels.shape[0], pixels.shape[1], max_delta)
    if offsets.ndim != 4 or offsets.shape[1:] != (rows, cols, 2):
        raise ValueError(f"offsets must have shape (iterations, {rows}, {cols}, 2); got {offsets.shape}.")
    if offsets.size and (offsets.min() < -max_delta or offsets.max() >= max(max_delta, 1)):
        raise ValueError(f"offsets must lie in [-{max_delta}, {max_delta}).")
    _shuffle(pixels, offsets, int(max_delta), bool(swap))
    return pixels


def glass_blur(image: np.ndarray, sigma: float, max_delta: int, offsets: np.ndarray, *, swap: bool = False) -> np.ndarray:
    """Gaussian blur, quantise to uint8 (truncating, as the reference does), shuffle, blur again."""
    image = image_hwc(image)
    blurred = (gaussian_filter(image, sigma) * 255).astype(np.uint8)
    shuffled = glass_shuffle(blurred, offsets, max_delta, swap=swap)
    return gaussian_filter(shuffled.astype(np.float32) * np.float32(1 / 255), sigma)
