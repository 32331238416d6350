"""Glass blur's local pixel shuffle, the reference's slowest loop, as a Numba kernel."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._scratch import scratch
from ._validate import image_hwc
from .counter import check_key, halves, splitmix64
from .filters import gaussian_filter
from .quantise import to_unit


def glass_offset_count(height: int, width: int, max_delta: int) -> tuple[int, int]:
    """How many rows and columns the shuffle visits: ``range(H - d, d, -1)`` and likewise for W."""
    return max(height - 2 * max_delta, 0), max(width - 2 * max_delta, 0)


@njit(cache=True, inline="always")
def _offset(key, v, visits, max_delta, keep):
    """Visit ``v``'s (dx, dy): the two halves of output ``v`` by multiply-shift, or (0, 0) when
    value 0 of output ``visits + v`` is not below ``keep`` (not visited: nothing moves)."""
    span = np.uint64(2 * max_delta)
    lo, hi = halves(splitmix64(key, np.uint64(v)))
    dx = np.int64((lo * span) >> np.uint64(32)) - max_delta
    dy = np.int64((hi * span) >> np.uint64(32)) - max_delta
    if keep < np.uint64(2**32) and halves(splitmix64(key, np.uint64(visits + v)))[0] >= keep:
        dx = dy = np.int64(0)
    return dx, dy


@njit(cache=True)
def _offsets(key, iterations, rows, cols, max_delta, keep):
    out = np.empty((iterations, rows, cols, 2), dtype=np.int8)
    flat = out.reshape(-1, 2)
    visits = flat.shape[0]
    for v in range(visits):
        flat[v, 0], flat[v, 1] = _offset(key, v, visits, max_delta, keep)
    return out


def offsets_from_key(key: int, iterations: int, height: int, width: int, max_delta: int,
                     visit_probability: float | None = None) -> np.ndarray:
    """The shuffle's offsets, ``iterations x rows x cols x 2`` (dx, dy) in ``[-max_delta, max_delta)``,
    from the counter stream ``key``: visit ``v`` takes dx and dy from the two halves of output
    ``v`` (by multiply-shift, within 2**-29 of uniform). With ``visit_probability`` a visit is
    kept when value 0 of output ``visits + v`` is below it, else its offset is zero.
    """
    rows, cols = glass_offset_count(height, width, max_delta)
    keep = 2**32 if visit_probability is None else int(round(visit_probability * 2**32))
    return _offsets(np.uint64(key), int(iterations), rows, cols, int(max_delta), np.uint64(keep))


@njit(cache=True, inline="always")
def _move_row(flat, p, moves, channels, swap):
    """Visit one row right to left from byte ``p``: copy the pixel ``moves[j]`` bytes away onto
    visit ``j``'s pixel, or with ``swap`` exchange the two."""
    if channels == 3 and not swap:  # the reference's case, unrolled: no inner loop, no branch
        for j in range(moves.shape[0]):
            q = p + moves[j]
            a0, a1, a2 = flat[q], flat[q + 1], flat[q + 2]
            flat[p], flat[p + 1], flat[p + 2] = a0, a1, a2
            p -= 3
        return
    for j in range(moves.shape[0]):
        q = p + moves[j]
        for c in range(channels):
            other = flat[q + c]
            if swap:
                flat[q + c] = flat[p + c]
            flat[p + c] = other
        p -= channels


@njit(cache=True)
def _shuffle(pixels, offsets, max_delta, swap):
    height, width, channels = pixels.shape
    iterations, n_rows, n_cols, _ = offsets.shape
    flat = pixels.reshape(-1)
    moves = np.empty(n_cols, dtype=np.int64)  # each visit's source, in bytes from its pixel
    for it in range(iterations):
        for i in range(n_rows):
            for j in range(n_cols):
                moves[j] = np.int64(offsets[it, i, j, 1]) * width * channels + np.int64(offsets[it, i, j, 0]) * channels
            _move_row(flat, ((height - max_delta - i) * width + width - max_delta) * channels, moves, channels, swap)


@njit(cache=True)
def _shuffle_from_key(pixels, key, iterations, max_delta, keep, swap):
    """``_shuffle`` with ``_offsets``' offsets computed a row at a time (a SIMD loop), no offsets array."""
    height, width, channels = pixels.shape
    n_rows, n_cols = max(height - 2 * max_delta, 0), max(width - 2 * max_delta, 0)
    visits = iterations * n_rows * n_cols
    flat = pixels.reshape(-1)
    moves = np.empty(n_cols, dtype=np.int64)
    v = 0
    for _ in range(iterations):
        for i in range(n_rows):
            for j in range(n_cols):
                dx, dy = _offset(key, v + j, visits, max_delta, keep)
                moves[j] = dy * width * channels + dx * channels
            v += n_cols
            _move_row(flat, ((height - max_delta - i) * width + width - max_delta) * channels, moves, channels, swap)


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
    _check_offsets(pixels.shape, offsets, max_delta)
    _shuffle(pixels, np.ascontiguousarray(offsets), int(max_delta), bool(swap))
    return pixels


def _check_offsets(shape: tuple[int, ...], offsets: np.ndarray, max_delta: int) -> None:
    rows, cols = glass_offset_count(shape[0], shape[1], max_delta)
    if offsets.ndim != 4 or offsets.shape[1:] != (rows, cols, 2):
        raise ValueError(f"offsets must have shape (iterations, {rows}, {cols}, 2); got {offsets.shape}.")
    if offsets.size and (offsets.min() < -max_delta or offsets.max() >= max(max_delta, 1)):
        raise ValueError(f"offsets must lie in [-{max_delta}, {max_delta}).")


def _blur_shuffle_blur(image: np.ndarray, sigma: float | tuple[float, float], shuffle) -> np.ndarray:
    blurred = gaussian_filter(image, sigma, out=scratch("glass.blurred", image.shape))
    blurred *= np.float32(255)
    levels = scratch("glass.levels", image.shape, np.uint8)
    np.copyto(levels, blurred, casting="unsafe")  # truncates, as astype(np.uint8)
    shuffle(levels)
    to_unit(levels, blurred)
    return gaussian_filter(blurred, sigma)


def glass_blur(image: np.ndarray, sigma: float | tuple[float, float], max_delta: int, offsets: np.ndarray, *, swap: bool = False) -> np.ndarray:
    """Gaussian blur, quantise to uint8 (truncating, as the reference does), shuffle, blur again.
    ``sigma`` is one value or (rows, columns), as :func:`corruptgen.kernels.filters.gaussian_filter`."""
    image = image_hwc(image)
    _check_offsets(image.shape, offsets, max_delta)
    offsets = np.ascontiguousarray(offsets)
    return _blur_shuffle_blur(image, sigma, lambda levels: _shuffle(levels, offsets, int(max_delta), bool(swap)))


def glass_blur_from_key(image: np.ndarray, sigma: float | tuple[float, float], max_delta: int, key: int, iterations: int,
                        visit_probability: float | None = None) -> np.ndarray:
    """``glass_blur(image, sigma, max_delta, offsets_from_key(key, iterations, H, W, max_delta,
    visit_probability), swap=visit_probability is not None)``, bit for bit, each offset computed
    where the shuffle uses it rather than stored first."""
    image = image_hwc(image)
    key = check_key(key)
    keep = 2**32 if visit_probability is None else int(round(visit_probability * 2**32))
    swap = visit_probability is not None
    return _blur_shuffle_blur(image, sigma, lambda levels: _shuffle_from_key(
        levels, key, int(iterations), int(max_delta), np.uint64(keep), swap))
