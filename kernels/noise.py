"""Per-pixel noise kernels on uint8 images, drawing from a counter stream (:mod:`.counter`).

The reference computes ``uint8(clip(f(x / 255, draw), 0, 1) * 255)``: for a given input level
the output is one of 256 levels, with probabilities that depend only on the level and the
severity. So each kernel samples the output level directly, by inverse CDF from a 256 x 256
table (row = input level) and one 32-bit uniform per value: the same distribution as the
reference's float arithmetic on a normal or Poisson draw, without drawing that number. The
tables are exact to 2**-32 per level. The top bits of the uniform index a per-row table that
holds the output itself wherever every uniform with those bits picks the same one (97-99.7 %
of gaussian and shot noise's draws at ImageNet-C's severities: one load, no search); elsewhere,
and for speckle, a search starts at the bin's first pick.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from ._validate import image_hwc
from .counter import check_key, halves, splitmix64

_LEVELS = 256
# the top bits of a uniform pick a bin, as many as measured fastest: 10 for the per-level tables
# (256 rows of 1,024 bins: 1-3 % of shot noise's draws land in a bin that two outputs share), 16
# for the one-row Gaussian offset table (under 1 % shared). Speckle's wide rows share 9-20 % of
# their bins at 10 bits and need 4,096 bins (3 MB a severity) to share few, which measured slower
# than no direct outputs once the cache is cold: it searches from the bins' first picks only.
_LEVEL_BITS = 10
_OFFSET_BITS = 16


class InverseCdf(NamedTuple):
    """An output distribution per row, sampled by one 32-bit uniform ``u``: the pick is the first
    column whose threshold exceeds ``u`` (the last if none), its output ``outputs[column]``."""

    thresholds: np.ndarray  # uint32, rows x columns: P(output <= the column's) on the 2**32 scale
    outputs: np.ndarray  # int64, per column
    guide: np.ndarray  # rows x 2**bits: the pick for the smallest u of each bin (u's top bits)
    direct: np.ndarray  # int16, rows x 2**bits: the output when every u of the bin picks it, else -1 (rows x 1: none)


def _table(cdf: np.ndarray, bits: int = _LEVEL_BITS, *, direct: bool = True) -> InverseCdf:
    """The :class:`InverseCdf` of ``cdf[row, out] = P(output <= out | row)``.

    Only outputs that some row can produce have a column (shot noise at scale 12 reaches 13 of
    the 256 levels), so the tables a call reads stay small; the pick is the same as over all
    256 columns.
    """
    cdf = np.clip(cdf, 0.0, 1.0)
    cdf[:, -1] = 1.0
    scaled = np.minimum(np.round(cdf * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    # a column whose threshold equals the one before it in every row is never the first above u
    previous = np.concatenate([np.zeros((scaled.shape[0], 1), np.uint32), scaled[:, :-1]], axis=1)
    outputs = np.flatnonzero((scaled != previous).any(axis=0) | (np.arange(scaled.shape[1]) == scaled.shape[1] - 1))
    scaled = np.ascontiguousarray(scaled[:, outputs])
    last = scaled.shape[1] - 1
    starts = np.arange(1 << bits, dtype=np.uint64) << np.uint64(32 - bits)
    first = np.stack([np.searchsorted(row, starts, side="right") for row in scaled]).clip(0, last)
    guide = np.ascontiguousarray(first.astype(np.uint8 if last < 256 else np.uint16))
    if direct:  # a bin resolves when its largest u picks what its smallest does
        ends = starts + np.uint64((1 << (32 - bits)) - 1)
        final = np.stack([np.searchsorted(row, ends, side="right") for row in scaled]).clip(0, last)
        resolved = np.where(first == final, outputs[first], -1)
    else:
        resolved = np.full((len(scaled), 1), -1)
    table = InverseCdf(scaled, outputs.astype(np.int64), guide, resolved.astype(np.int16))
    for array in table:
        array.setflags(write=False)
    return table


@lru_cache(maxsize=64)
def gaussian_table(sigma: float) -> InverseCdf:
    """Offsets ``d`` with ``uint8(clip(l/255 + N(0, sigma), 0, 1) * 255) = clip(l + d, 0, 255)``.

    The output is at most ``o`` when the value is below ``(o + 1) / 255``, i.e. when
    ``floor(255 * sigma * n) <= o - l``: the same offset distribution for every level, so one
    row, over ``d`` from -256 (always 0) to 255 (always 255); entry ``i`` is ``d = i - 256``.
    """
    from scipy.special import ndtr  # here, once per table: scipy.special costs 0.2 s to import

    upper = np.arange(-_LEVELS, _LEVELS, dtype=np.float64)[None, :] + 1.0
    return _table(ndtr(upper / (255.0 * sigma)), _OFFSET_BITS)


@lru_cache(maxsize=64)
def speckle_table(sigma: float) -> InverseCdf:
    """Output levels of ``uint8(clip(x + x * N(0, sigma), 0, 1) * 255)``, ``x = l / 255``."""
    from scipy.special import ndtr

    levels = np.arange(1, _LEVELS, dtype=np.float64)[:, None]
    upper = np.arange(1, _LEVELS + 1, dtype=np.float64)[None, :]
    cdf = np.ones((_LEVELS, _LEVELS))  # level 0 stays 0
    cdf[1:] = ndtr((upper / levels - 1.0) / sigma)
    return _table(cdf, direct=False)


@lru_cache(maxsize=64)
def poisson_table(scale: float) -> InverseCdf:
    """Output levels of ``uint8(clip(Poisson(l / 255 * scale) / scale, 0, 1) * 255)``.

    The Poisson probabilities run until the CDF reaches 1 - 1e-15; each count is mapped to its
    output level with the reference's float arithmetic.
    """
    lams = np.arange(_LEVELS, dtype=np.float64) / 255.0 * scale
    top = int(lams[-1] + 12 * math.sqrt(lams[-1] + 1) + 20)
    counts = np.arange(top, dtype=np.float64)
    log_factorial = np.array([math.lgamma(k + 1) for k in counts])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = counts[None, :] * np.log(lams)[:, None] - lams[:, None] - log_factorial[None, :]
    log_pmf[0, :] = -np.inf
    log_pmf[0, 0] = 0.0  # Poisson(0) is always 0
    outputs = np.clip(np.floor(np.clip(counts / scale, 0.0, 1.0) * 255.0), 0, 255).astype(np.int64)
    pmf = np.zeros((_LEVELS, _LEVELS))
    np.add.at(pmf, (slice(None), outputs), np.exp(log_pmf))
    return _table(np.cumsum(pmf, axis=1))


@njit(cache=True)
def _inverse_cdf(levels, key, thresholds, outputs, guide, direct, shift, offsets):
    """Value ``i`` takes uniform ``i`` of the stream through the table: the output level itself
    (row = input level), or with ``offsets`` an offset from the one-row table added to the level.
    The pick is read from ``direct``, or searched for from the bin's first pick. (Written out here:
    with the pick in a helper function, inlined or not, Numba compiled this loop 20x slower.)"""
    out = np.empty_like(levels)
    flat_l, flat_o = levels.reshape(-1), out.reshape(-1)
    n = flat_l.size
    last = thresholds.shape[1] - 1
    resolved = direct.shape[1] > 1
    for j in range((n + 1) // 2):
        lo, hi = halves(splitmix64(key, np.uint64(j)))
        for u, i in ((lo, 2 * j), (hi, 2 * j + 1)):
            if i < n:
                level = np.int64(flat_l[i])
                row = 0 if offsets else level
                b = np.int64(u >> shift)
                pick = np.int64(direct[row, b]) if resolved else np.int64(-1)
                if pick < 0:
                    column = np.int64(guide[row, b])
                    while column < last and thresholds[row, column] <= u:
                        column += 1
                    pick = outputs[column]
                flat_o[i] = min(max(level + pick - _LEVELS, 0), 255) if offsets else pick
    return out


def _shift(table: InverseCdf) -> np.uint64:
    return np.uint64(32 - int(table.guide.shape[1]).bit_length() + 1)


def _levels_and_key(levels: np.ndarray, key: int) -> tuple[np.ndarray, np.uint64]:
    return image_hwc(levels, "levels", np.uint8), check_key(key)


def sample_levels(levels: np.ndarray, key: int, table: InverseCdf) -> np.ndarray:
    """Draw every output level from ``table`` (one of the ``*_table`` functions) given its input level.

    Value ``i`` of the flattened image uses value ``i`` of the counter stream ``key``.
    """
    levels, key = _levels_and_key(levels, key)
    return _inverse_cdf(levels, key, *table, _shift(table), False)


def gaussian_noise(levels: np.ndarray, key: int, sigma: float) -> np.ndarray:
    """``x + N(0, sigma)`` on [0, 1], independent per value; uint8 in, uint8 out.

    Value ``i`` of the flattened image uses value ``i`` of the counter stream ``key``.
    """
    levels, key = _levels_and_key(levels, key)
    table = gaussian_table(float(sigma))
    return _inverse_cdf(levels, key, *table, _shift(table), True)


def speckle_noise(levels: np.ndarray, key: int, sigma: float) -> np.ndarray:
    """``x + x * N(0, sigma)`` (multiplicative noise); uint8 in and out."""
    return sample_levels(levels, key, speckle_table(float(sigma)))


def shot_noise(levels: np.ndarray, key: int, scale: float) -> np.ndarray:
    """``Poisson(x * scale) / scale``; ``scale`` is the photon count at full brightness (the reference's ``c``)."""
    return sample_levels(levels, key, poisson_table(float(scale)))


@njit(cache=True, inline="always")
def _salt_or_pepper(level, u, salt, pepper):
    level = np.uint8(0) if u < pepper else level
    return np.uint8(255) if u < salt else level


@njit(cache=True)
def _salt_and_pepper(levels, key, salt, pepper):
    """Selects, not branches, two values per stream output: the loop vectorises and costs the same
    at every amount."""
    out = np.empty_like(levels)
    flat_l, flat_o = levels.reshape(-1), out.reshape(-1)
    n = flat_l.size
    for j in range(n // 2):
        low, high = halves(splitmix64(key, np.uint64(j)))
        flat_o[2 * j] = _salt_or_pepper(flat_l[2 * j], low, salt, pepper)
        flat_o[2 * j + 1] = _salt_or_pepper(flat_l[2 * j + 1], high, salt, pepper)
    if n % 2:
        flat_o[n - 1] = _salt_or_pepper(flat_l[n - 1], halves(splitmix64(key, np.uint64(n // 2)))[0], salt, pepper)
    return out


def salt_and_pepper(levels: np.ndarray, key: int, amount: float) -> np.ndarray:
    """Set each value to 255 with probability ``amount/2`` and to 0 with probability ``amount/2``.

    The same distribution as ``skimage.util.random_noise(mode="s&p", amount=amount)``, drawn
    from one 32-bit uniform per value (value ``i`` of the stream ``key``) instead of two arrays.
    """
    levels, key = _levels_and_key(levels, key)
    salt = np.uint64(round(amount / 2.0 * 2.0**32))
    return _salt_and_pepper(levels, key, salt, np.uint64(round(amount * 2.0**32)))
