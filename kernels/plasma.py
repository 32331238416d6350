"""Diamond-square plasma fractal (the fog layer) as a Numba kernel, drawing from a counter stream."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import image_hwc
from .counter import check_key, value
from .quantise import quantise


def next_power_of_2(n: int) -> int:
    return 1 if n <= 1 else 2 ** (int(n) - 1).bit_length()


def plasma_draw_count(mapsize: int) -> int:
    """How many uniform draws :func:`plasma_fractal` consumes: 3 (n x n) blocks per octave."""
    if mapsize < 1 or mapsize & (mapsize - 1):
        raise ValueError(f"mapsize must be a power of two; got {mapsize}.")
    count, step = 0, mapsize
    while step >= 2:
        count += 3 * (mapsize // step) ** 2
        step //= 2
    return count


@njit(cache=True, inline="always")
def _draw(key, k):
    """Draw ``k`` of the map: value ``k`` of the counter stream, uniform on [-1, 1)."""
    return value(key, k) * 2.0**-31 - 1.0


@njit(cache=True)
def _plasma(heights, wibbledecay, key):
    mapsize = heights.shape[0]
    heights[:] = 0.0
    step = mapsize
    wibble = 100.0
    k = 0
    while step >= 2:
        half = step // 2
        n = mapsize // step
        w2 = wibble * wibble
        for i in range(n):  # squares: centre = mean of the four corners
            i1 = i + 1 if i + 1 < n else 0  # wrap around without a division
            for j in range(n):
                j1 = j + 1 if j + 1 < n else 0
                total = (heights[i * step, j * step] + heights[i1 * step, j * step]
                         + heights[i * step, j1 * step] + heights[i1 * step, j1 * step])  # fmt: skip
                heights[i * step + half, j * step + half] = total / 4 + w2 * _draw(key, k)
                k += 1
        for i in range(n):  # diamonds on the corner rows
            i0 = i - 1 if i > 0 else n - 1
            for j in range(n):
                j1 = j + 1 if j + 1 < n else 0
                total = (heights[i * step + half, j * step + half] + heights[i0 * step + half, j * step + half]
                         + heights[i * step, j * step] + heights[i * step, j1 * step])  # fmt: skip
                heights[i * step, j * step + half] = total / 4 + w2 * _draw(key, k)
                k += 1
        for i in range(n):  # diamonds on the corner columns
            i1 = i + 1 if i + 1 < n else 0
            for j in range(n):
                j0 = j - 1 if j > 0 else n - 1
                total = (heights[i * step + half, j * step + half] + heights[i * step + half, j0 * step + half]
                         + heights[i * step, j * step] + heights[i1 * step, j * step])  # fmt: skip
                heights[i * step + half, j * step] = total / 4 + w2 * _draw(key, k)
                k += 1
        step //= 2
        wibble /= wibbledecay
    heights -= heights.min()
    peak = heights.max()
    if peak > 0:
        heights /= peak
    return heights


def plasma_fractal(mapsize: int, wibbledecay: float, key: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """A ``mapsize x mapsize`` heightmap scaled to [0, 1], as imagecorruptions' ``plasma_fractal``.

    Its :func:`plasma_draw_count` uniform draws on [-1, 1) are the counter stream ``key``
    (``counter.uniforms(key, count, -1, 1)``), computed as they are consumed, octave by octave
    in the reference's order (square step, then the two diamond steps, each row-major); the
    reference's ``wibble * uniform(-wibble, wibble)`` is ``wibble**2 * draw``. ``out``: a float64
    ``mapsize x mapsize`` array to fill instead of a new one.
    """
    plasma_draw_count(mapsize)  # validates
    key = check_key(key)
    heights = np.empty((mapsize, mapsize), dtype=np.float64) if out is None else out
    if heights.shape != (mapsize, mapsize) or heights.dtype != np.float64:
        raise ValueError(f"out must be a float64 {mapsize} x {mapsize} array; got {heights.dtype} {heights.shape}.")
    return _plasma(heights, float(wibbledecay), key)


@njit(cache=True)
def _fog(levels, plasma, amount):
    height, width, channels = levels.shape
    peak = 0
    for v in levels.reshape(-1):
        peak = max(peak, v)
    peak_f = peak / 255.0
    scale = peak_f / (peak_f + amount)
    values = np.arange(256) / 255.0  # x / 255 per level, looked up rather than divided
    out = np.empty_like(levels)
    for y in range(height):
        src, dst, layer = levels[y], out[y], plasma[y]
        for x in range(width):
            fog = amount * layer[x]
            for c in range(channels):
                dst[x, c] = quantise((values[src[x, c]] + fog) * scale)
    return out


def fog(levels: np.ndarray, plasma: np.ndarray, amount: float) -> np.ndarray:
    """Add ``amount * plasma`` and rescale by the image's peak, as the reference's ``fog``; uint8 in and out."""
    levels = image_hwc(levels, "levels", np.uint8)
    if plasma.shape[0] < levels.shape[0] or plasma.shape[1] < levels.shape[1]:
        raise ValueError(f"plasma must cover the image {levels.shape[:2]}; got {plasma.shape}.")
    return _fog(levels, plasma, float(amount))
