"""Diamond-square plasma fractal (the fog layer), with its random draws passed in."""

from __future__ import annotations

import numpy as np


def next_power_of_2(n: int) -> int:
    return 1 if n <= 1 else 2 ** (int(n) - 1).bit_length()


def plasma_draw_shapes(mapsize: int) -> list[tuple[int, int]]:
    """Shapes of the uniform draws :func:`plasma_fractal` consumes, in order.

    Three per octave: the square step and the two diamond steps, each ``(n, n)`` with
    ``n = mapsize / stepsize``.
    """
    if mapsize < 1 or mapsize & (mapsize - 1):
        raise ValueError(f"mapsize must be a power of two; got {mapsize}.")
    shapes = []
    step = mapsize
    while step >= 2:
        n = mapsize // step
        shapes += [(n, n)] * 3
        step //= 2
    return shapes


def plasma_fractal(mapsize: int, wibbledecay: float, draws: list[np.ndarray]) -> np.ndarray:
    """A ``mapsize x mapsize`` heightmap scaled to [0, 1], as imagecorruptions' ``plasma_fractal``.

    ``draws`` are uniform on [-1, 1) with the shapes :func:`plasma_draw_shapes` lists; the
    reference's ``wibble * uniform(-wibble, wibble)`` is ``wibble**2 * draw``.
    """
    shapes = plasma_draw_shapes(mapsize)
    if [tuple(d.shape) for d in draws] != shapes:
        raise ValueError(f"draws must have the shapes {shapes[:3]}...; got {[d.shape for d in draws][:3]}...")
    heights = np.empty((mapsize, mapsize), dtype=np.float64)
    heights[0, 0] = 0
    step = mapsize
    wibble = 100.0
    it = iter(draws)

    def wibbled_mean(total):
        return total / 4 + wibble * wibble * next(it)

    while step >= 2:
        half = step // 2
        corners = heights[0:mapsize:step, 0:mapsize:step]
        square = corners + np.roll(corners, shift=-1, axis=0)
        square += np.roll(square, shift=-1, axis=1)
        heights[half:mapsize:step, half:mapsize:step] = wibbled_mean(square)

        centres = heights[half:mapsize:step, half:mapsize:step]
        corners = heights[0:mapsize:step, 0:mapsize:step]
        left = centres + np.roll(centres, 1, axis=0) + corners + np.roll(corners, -1, axis=1)
        heights[0:mapsize:step, half:mapsize:step] = wibbled_mean(left)
        top = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=0)
        heights[half:mapsize:step, 0:mapsize:step] = wibbled_mean(top)
        step //= 2
        wibble /= wibbledecay

    heights -= heights.min()
    peak = heights.max()
    return heights / peak if peak > 0 else heights


def fog(image: np.ndarray, plasma: np.ndarray, amount: float) -> np.ndarray:
    """Add ``amount * plasma`` and rescale by the image's peak, as the reference's ``fog``."""
    height, width = image.shape[:2]
    peak = float(image.max())
    out = image + np.float32(amount) * plasma[:height, :width, None].astype(np.float32)
    scale = peak / (peak + amount)
    return np.clip(out * np.float32(scale), 0, 1)
