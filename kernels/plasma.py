"""Diamond-square plasma fractal (the fog layer) as a Numba kernel, drawing from a counter stream."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._validate import image_hwc
from .counter import check_key, halves, splitmix64, value
from .quantise import to_level


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
def _pairs_of_draws(key, k0, n, w2, out):
    """``out[j] = w2 * draw(key, k0 + j)`` for ``j < n``, one stream output per two draws."""
    j = 0
    if k0 & 1 and n > 0:
        out[0] = w2 * _draw(key, k0)
        j = 1
    first = (k0 + j) >> 1
    for q in range((n - j) // 2):
        lo, hi = halves(splitmix64(key, np.uint64(first + q)))
        out[j + 2 * q] = w2 * (lo * 2.0**-31 - 1.0)
        out[j + 2 * q + 1] = w2 * (hi * 2.0**-31 - 1.0)
    if (n - j) % 2:
        out[n - 1] = w2 * _draw(key, k0 + n - 1)


@njit(cache=True, inline="always")
def _octave_row(heights, phase, i, n, step, half, sums):
    """Row ``i`` of an octave's ``phase``: fills ``sums`` with each new point's four neighbours
    (wrapping around) and returns the map row and first column the points go to, ``step`` apart."""
    if phase == 0:  # squares: centre = mean of the four corners
        a, b = heights[i * step], heights[(i + 1) % n * step]
        for j in range(n - 1):
            sums[j] = a[j * step] + b[j * step] + a[j * step + step] + b[j * step + step]
        sums[n - 1] = a[(n - 1) * step] + b[(n - 1) * step] + a[0] + b[0]
        return heights[i * step + half], half
    if phase == 1:  # diamonds on the corner rows
        c, cp, row = heights[i * step + half], heights[(i - 1) % n * step + half], heights[i * step]
        for j in range(n - 1):
            sums[j] = c[j * step + half] + cp[j * step + half] + row[j * step] + row[j * step + step]
        sums[n - 1] = c[(n - 1) * step + half] + cp[(n - 1) * step + half] + row[(n - 1) * step] + row[0]
        return row, half
    # diamonds on the corner columns
    c, top, bottom = heights[i * step + half], heights[i * step], heights[(i + 1) % n * step]
    sums[0] = c[half] + c[(n - 1) * step + half] + top[0] + bottom[0]
    for j in range(1, n):
        sums[j] = c[j * step + half] + c[j * step - half] + top[j * step] + bottom[j * step]
    return c, 0


@njit(cache=True)
def _plasma(heights, wibbledecay, key):
    """The diamond-square, unnormalised; returns the map's lowest and highest value (every point is
    written once, so they are tracked as it goes).

    The reference fills an octave phase by phase (squares, then the two diamond steps), each
    row-major. Row ``i`` of a phase reads only earlier octaves and the squares' rows ``i`` and
    ``i - 1``, so here the three phases go down the map together, their rows still in cache, with
    the squares' last row first (the diamonds' row 0 wraps around to it). Draws are indexed by
    the reference's order, so every point is the same.
    """
    mapsize = heights.shape[0]
    heights[0, 0] = 0.0  # the corner stays 0; every other point is written before it is read
    low = high = 0.0
    step = mapsize
    wibble = 100.0
    k = 0
    noise = np.empty(mapsize, dtype=np.float64)
    sums = np.empty(mapsize, dtype=np.float64)
    while step >= 2:
        half = step // 2
        n = mapsize // step
        w2 = wibble * wibble
        for r in range(-1, n):
            for phase in range(3):
                if r == -1 and phase > 0 or r == n - 1 and phase == 0:
                    continue
                i = n - 1 if r == -1 else r
                _pairs_of_draws(key, k + (phase * n + i) * n, n, w2, noise)
                dst, at = _octave_row(heights, phase, i, n, step, half, sums)
                for j in range(n):
                    v = sums[j] / 4 + noise[j]
                    dst[j * step + at] = v
                    low = min(low, v)
                    high = max(high, v)
        k += 3 * n * n
        step //= 2
        wibble /= wibbledecay
    return low, high


def plasma_fractal(mapsize: int, wibbledecay: float, key: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """A ``mapsize x mapsize`` heightmap scaled to [0, 1], as imagecorruptions' ``plasma_fractal``.

    Its :func:`plasma_draw_count` uniform draws on [-1, 1) are the counter stream ``key``
    (``counter.uniforms(key, count, -1, 1)``), computed as they are consumed, octave by octave
    in the reference's order (square step, then the two diamond steps, each row-major); the
    reference's ``wibble * uniform(-wibble, wibble)`` is ``wibble**2 * draw``. ``out``: a float64
    ``mapsize x mapsize`` array to fill instead of a new one.
    """
    heights = np.empty((mapsize, mapsize), dtype=np.float64) if out is None else out
    low, peak = plasma_heights(mapsize, wibbledecay, key, heights)
    heights -= low
    if peak > 0:
        heights /= peak
    return heights


def plasma_heights(mapsize: int, wibbledecay: float, key: int, out: np.ndarray) -> tuple[float, float]:
    """:func:`plasma_fractal` before its scaling: fills ``out`` (float64, ``mapsize x mapsize``) and
    returns ``(low, peak)``; the scaled map is ``(out - low) / peak`` (``out - low`` where ``peak``
    is 0), which :func:`fog` applies to the pixels it reads only."""
    plasma_draw_count(mapsize)  # validates
    if out.shape != (mapsize, mapsize) or out.dtype != np.float64:
        raise ValueError(f"out must be a float64 {mapsize} x {mapsize} array; got {out.dtype} {out.shape}.")
    low, high = _plasma(out, float(wibbledecay), check_key(key))
    return low, high - low  # the largest of out - low: rounding is monotonic


@njit(cache=True)
def _fog(levels, plasma, low, peak, amount, rounded):
    height, width, channels = levels.shape
    top = 0
    for v in levels.reshape(-1):
        top = max(top, v)
    top_f = top / 255.0
    scale = top_f / (top_f + amount)
    values = np.arange(256) / 255.0  # x / 255 per level, looked up rather than divided
    out = np.empty_like(levels)
    for y in range(height):
        src, dst, layer = levels[y], out[y], plasma[y]
        for x in range(width):
            h = layer[x] - low
            fog = amount * (h / peak if peak > 0 else h)
            for c in range(channels):
                dst[x, c] = to_level((values[src[x, c]] + fog) * scale, rounded)
    return out


def fog(levels: np.ndarray, plasma: np.ndarray, amount: float, *, low: float = 0.0, peak: float = 1.0,
        rounded: bool = False) -> np.ndarray:
    """Add ``amount * plasma`` and rescale by the image's peak, as the reference's ``fog``; uint8 in and
    out, truncated (rounded with ``rounded``).

    ``plasma`` is a map from :func:`plasma_fractal`, or an unscaled one from :func:`plasma_heights`
    with its ``low`` and ``peak``: it is then scaled where it is read (the same arithmetic)."""
    levels = image_hwc(levels, "levels", np.uint8)
    if plasma.shape[0] < levels.shape[0] or plasma.shape[1] < levels.shape[1]:
        raise ValueError(f"plasma must cover the image {levels.shape[:2]}; got {plasma.shape}.")
    return _fog(levels, plasma, float(low), float(peak), float(amount), bool(rounded))
