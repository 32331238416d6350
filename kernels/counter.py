"""A counter-based random stream for kernels that need one draw per pixel.

A corruption draws one 64-bit ``key`` from its ``numpy.random.Generator``; a kernel expands it
into as many uniforms as it needs, fused with the arithmetic that uses them, so no array of
draws is ever built. The stream is SplitMix64 (Steele, Lea and Flood 2014; Java's
``SplittableRandom``): output ``j`` is the SplitMix64 finaliser of ``key + (j + 1) * gamma``,
so any element can be computed on its own (same bytes in any order, on any thread count).
Each 64-bit output gives two 32-bit uniforms: value ``i`` of a stream is half ``i % 2`` of
output ``i // 2``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)


def draw_key(rng: np.random.Generator) -> int:
    """One 64-bit key for a counter stream, drawn from ``rng`` (which advances)."""
    return int(rng.integers(0, 2**64, dtype=np.uint64))


@njit(cache=True, inline="always")
def splitmix64(key, j):
    """Output ``j`` of the SplitMix64 stream seeded with ``key`` (both uint64)."""
    z = key + (j + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def halves(z):
    """The two 32-bit uniforms of one 64-bit output, as uint64 values below 2**32."""
    return z & _LOW, z >> _S32


@njit(cache=True)
def _uint32_stream(key, count):
    out = np.empty(count, dtype=np.uint32)
    for j in range(count // 2):
        lo, hi = halves(splitmix64(key, np.uint64(j)))
        out[2 * j] = lo
        out[2 * j + 1] = hi
    if count % 2:
        out[count - 1] = halves(splitmix64(key, np.uint64(count // 2)))[0]
    return out


def uint32_stream(key: int, count: int) -> np.ndarray:
    """The first ``count`` 32-bit values of the stream ``key`` (what a kernel sees, for tests)."""
    if not 0 <= int(key) < 2**64:
        raise ValueError(f"key must be an integer in [0, 2**64); got {key!r}.")
    return _uint32_stream(np.uint64(key), int(count))


@njit(cache=True)
def _uniforms(key, count, low, width):
    out = np.empty(count, dtype=np.float64)
    for j in range((count + 1) // 2):
        lo, hi = halves(splitmix64(key, np.uint64(j)))
        out[2 * j] = low + width * (lo * 2.0**-32)
        if 2 * j + 1 < count:
            out[2 * j + 1] = low + width * (hi * 2.0**-32)
    return out


def uniforms(key: int, count: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``count`` float64 values uniform on ``[low, high)`` (32 random bits each): value ``i`` is
    ``low + (high - low) * u_i / 2**32`` with ``u_i`` value ``i`` of the stream ``key``."""
    if not 0 <= int(key) < 2**64:
        raise ValueError(f"key must be an integer in [0, 2**64); got {key!r}.")
    return _uniforms(np.uint64(key), int(count), float(low), float(high) - float(low))
