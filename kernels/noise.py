"""Per-pixel noise kernels. Every random number arrives as an array drawn by the caller."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from ._validate import image_hwc, same_hw


def additive_noise(image: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``clip(image + noise, 0, 1)``: Gaussian noise when ``noise ~ N(0, sigma)``."""
    image = image_hwc(image)
    same_hw(image, noise, "noise")
    return np.clip(image + noise, 0, 1, dtype=np.float32)


def speckle_noise(image: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``clip(image + image * noise, 0, 1)``: multiplicative (speckle) noise."""
    image = image_hwc(image)
    same_hw(image, noise, "noise")
    return np.clip(image + image * noise, 0, 1, dtype=np.float32)


@njit(cache=True)
def _salt_and_pepper(image, uniforms, half_amount, amount):
    out = image.copy()
    flat_out = out.reshape(-1)
    flat_u = uniforms.reshape(-1)
    for i in range(flat_out.size):
        u = flat_u[i]
        if u < half_amount:
            flat_out[i] = 1.0
        elif u < amount:
            flat_out[i] = 0.0
    return out


def salt_and_pepper(image: np.ndarray, uniforms: np.ndarray, amount: float) -> np.ndarray:
    """Set each value to 1 with probability ``amount/2`` and to 0 with probability ``amount/2``.

    The same distribution as ``skimage.util.random_noise(mode="s&p", amount=amount)``,
    drawn from one uniform per value instead of two Bernoulli arrays.
    """
    image = image_hwc(image)
    if uniforms.shape != image.shape:
        raise ValueError(f"uniforms must have shape {image.shape}; got {uniforms.shape}.")
    return _salt_and_pepper(image, np.ascontiguousarray(uniforms), amount / 2.0, amount)


@lru_cache(maxsize=32)
def poisson_cdf_table(scale: float) -> np.ndarray:
    """Row k is the CDF of Poisson(k / 255 * scale), for every uint8 level k.

    Rows run until the CDF reaches 1 - 1e-15 and are padded with 1.0.
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
    table = np.ascontiguousarray(cdf)
    table.setflags(write=False)
    return table


@njit(cache=True)
def _poisson(levels, uniforms, table, scale):
    out = np.empty(levels.shape, dtype=np.float32)
    flat_l = levels.reshape(-1)
    flat_u = uniforms.reshape(-1)
    flat_o = out.reshape(-1)
    n = table.shape[1]
    inv = 1.0 / scale
    for i in range(flat_l.size):
        row = table[flat_l[i]]
        u = flat_u[i]
        lo, hi = 0, n - 1
        while lo < hi:  # first k with cdf[k] > u
            mid = (lo + hi) // 2
            if row[mid] > u:
                hi = mid
            else:
                lo = mid + 1
        v = lo * inv
        flat_o[i] = v if v < 1.0 else 1.0
    return out


def shot_noise(levels: np.ndarray, uniforms: np.ndarray, scale: float) -> np.ndarray:
    """``clip(Poisson(levels / 255 * scale) / scale, 0, 1)`` by inverse-CDF sampling.

    Parameters
    ----------
    levels : uint8 array, H x W x C (the clean image's gray levels).
    uniforms : float64 array of the same shape, uniform on [0, 1).
    scale : the photon count at full brightness (the reference's ``c``).
    """
    levels = image_hwc(levels, "levels", np.uint8)
    if uniforms.shape != levels.shape:
        raise ValueError(f"uniforms must have shape {levels.shape}; got {uniforms.shape}.")
    return _poisson(levels, np.ascontiguousarray(uniforms, dtype=np.float64), poisson_cdf_table(float(scale)), float(scale))
