"""Per-pixel noise kernels on uint8 images, fused (add, clip, quantise in one pass).

Every random number arrives as an array drawn by the caller. Each kernel computes what the
reference computes in float, ``clip(f(x / 255, draw), 0, 1) * 255``, and truncates to uint8
as the reference's ``np.uint8(...)`` does.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from ._validate import image_hwc
from .quantise import quantise

_GUIDE_BINS = 1024


@njit(cache=True)
def _additive(levels, noise, sigma, multiplicative):
    out = np.empty_like(levels)
    flat_l, flat_n, flat_o = levels.reshape(-1), noise.reshape(-1), out.reshape(-1)
    for i in range(flat_l.size):
        x = flat_l[i] * np.float32(1.0 / 255.0)
        n = flat_n[i] * sigma
        flat_o[i] = quantise(x + x * n if multiplicative else x + n)
    return out


def _check(levels: np.ndarray, draws: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    levels = image_hwc(levels, "levels", np.uint8)
    if draws.shape != levels.shape:
        raise ValueError(f"{what} must have shape {levels.shape}; got {draws.shape}.")
    return levels, np.ascontiguousarray(draws)


def gaussian_noise(levels: np.ndarray, normals: np.ndarray, sigma: float) -> np.ndarray:
    """``x + sigma * n`` with ``n ~ N(0, 1)`` given; uint8 in, uint8 out."""
    levels, normals = _check(levels, normals, "normals")
    return _additive(levels, normals, np.float32(sigma), False)


def speckle_noise(levels: np.ndarray, normals: np.ndarray, sigma: float) -> np.ndarray:
    """``x + x * sigma * n`` (multiplicative noise) with ``n ~ N(0, 1)`` given; uint8 in and out."""
    levels, normals = _check(levels, normals, "normals")
    return _additive(levels, normals, np.float32(sigma), True)


@njit(cache=True)
def _salt_and_pepper(levels, uniforms, half_amount, amount):
    out = levels.copy()
    flat_o, flat_u = out.reshape(-1), uniforms.reshape(-1)
    for i in range(flat_o.size):
        u = flat_u[i]
        if u < half_amount:
            flat_o[i] = 255
        elif u < amount:
            flat_o[i] = 0
    return out


def salt_and_pepper(levels: np.ndarray, uniforms: np.ndarray, amount: float) -> np.ndarray:
    """Set each value to 255 with probability ``amount/2`` and to 0 with probability ``amount/2``.

    The same distribution as ``skimage.util.random_noise(mode="s&p", amount=amount)``,
    drawn from one uniform per value instead of two Bernoulli arrays.
    """
    levels, uniforms = _check(levels, uniforms, "uniforms")
    return _salt_and_pepper(levels, uniforms, amount / 2.0, amount)


@lru_cache(maxsize=32)
def poisson_tables(scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-CDF tables of Poisson(k / 255 * scale) for every uint8 level k.

    Returns ``cdf`` (row k is the CDF, run until it reaches 1 - 1e-15 and padded with 1.0)
    and ``guide`` (``guide[k, b]`` is the first count whose CDF exceeds ``b / bins``), so a
    draw starts its search at the right place and needs about one comparison.
    """
    lams = np.arange(256, dtype=np.float64) / 255.0 * scale
    top = int(lams[-1] + 12 * math.sqrt(lams[-1] + 1) + 20)
    ks = np.arange(top, dtype=np.float64)
    lgam = np.array([math.lgamma(k + 1) for k in ks])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = ks[None, :] * np.log(lams)[:, None] - lams[:, None] - lgam[None, :]
    log_pmf[0, :] = -np.inf
    log_pmf[0, 0] = 0.0  # Poisson(0) is always 0
    cdf = np.cumsum(np.exp(log_pmf), axis=1)
    cdf[cdf > 1 - 1e-15] = 1.0
    cdf[:, -1] = 1.0
    bins = np.arange(_GUIDE_BINS) / _GUIDE_BINS
    guide = np.stack([np.searchsorted(row, bins, side="right") for row in cdf]).astype(np.int32)
    for table in (cdf, guide):
        table.setflags(write=False)
    return np.ascontiguousarray(cdf), np.ascontiguousarray(guide)


@njit(cache=True)
def _poisson(levels, uniforms, cdf, guide, scale):
    out = np.empty_like(levels)
    flat_l, flat_u, flat_o = levels.reshape(-1), uniforms.reshape(-1), out.reshape(-1)
    bins = guide.shape[1]
    for i in range(flat_l.size):
        level = flat_l[i]
        u = flat_u[i]
        k = guide[level, int(u * bins)]
        row = cdf[level]
        while row[k] <= u:  # first count whose CDF exceeds u
            k += 1
        flat_o[i] = quantise(k / scale)
    return out


def shot_noise(levels: np.ndarray, uniforms: np.ndarray, scale: float) -> np.ndarray:
    """``Poisson(x * scale) / scale`` by exact inverse-CDF sampling; uint8 in and out.

    Parameters
    ----------
    levels : uint8 array, H x W x C (the clean image's gray levels).
    uniforms : float64 array of the same shape, uniform on [0, 1).
    scale : the photon count at full brightness (the reference's ``c``).
    """
    levels, uniforms = _check(levels, uniforms.astype(np.float64, copy=False), "uniforms")
    cdf, guide = poisson_tables(float(scale))
    return _poisson(levels, uniforms, cdf, guide, float(scale))
