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


@njit(cache=True, inline="always")
def value(key, i):
    """Value ``i`` of the stream: half ``i % 2`` of output ``i // 2`` (a uint64 below 2**32)."""
    return halves(splitmix64(key, np.uint64(i >> 1)))[i & 1]


def check_key(key: int) -> np.uint64:
    """``key`` as the kernels take it, or ValueError naming the valid range."""
    if not 0 <= int(key) < 2**64:
        raise ValueError(f"key must be an integer in [0, 2**64); got {key!r}.")
    return np.uint64(key)


@njit(cache=True)
def _uint32_stream(key, count):
    out = np.empty(count, dtype=np.uint32)
    for i in range(count):
        out[i] = value(key, i)
    return out


def uint32_stream(key: int, count: int) -> np.ndarray:
    """The first ``count`` 32-bit values of the stream ``key`` (what a kernel sees, for tests)."""
    return _uint32_stream(check_key(key), int(count))


@njit(cache=True)
def _uniforms(key, count, low, width):
    out = np.empty(count, dtype=np.float64)
    for i in range(count):
        out[i] = low + width * (value(key, i) * 2.0**-32)
    return out


def uniforms(key: int, count: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``count`` float64 values uniform on ``[low, high)`` (32 random bits each): value ``i`` is
    ``low + (high - low) * u_i / 2**32`` with ``u_i`` value ``i`` of the stream ``key``."""
    return _uniforms(check_key(key), int(count), float(low), float(high) - float(low))


@njit(cache=True)
def _fill_unit_floats(key, flat):
    for i in range(flat.size):
        flat[i] = np.float32((value(key, i) >> np.uint64(8)) * 2.0**-24)


def fill_unit_floats(key: int, out: np.ndarray) -> np.ndarray:
    """Fill the C-contiguous float32 ``out`` with uniforms on [0, 1): element ``i`` is the top 24
    bits of value ``i`` of the stream ``key`` over 2**24 (exact in float32, never 1)."""
    if out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array; got {out.dtype}.")
    _fill_unit_floats(check_key(key), out.reshape(-1))
    return out


def _ziggurat_tables(layers: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia and Tsang's (2000) ziggurat for the standard normal, 128 layers: ``k`` (accept
    thresholds on the 31-bit magnitude), ``w`` (magnitude scale) and ``f`` (density at layer edges)."""
    dn, vn, m1 = 3.442619855899, 9.91256303526217e-3, 2.0**31
    k, w, f = np.zeros(layers, np.int64), np.zeros(layers), np.zeros(layers)
    q = vn / np.exp(-0.5 * dn * dn)
    k[0], k[1] = int(dn / q * m1), 0
    w[0], w[layers - 1] = q / m1, dn / m1
    f[0], f[layers - 1] = 1.0, np.exp(-0.5 * dn * dn)
    tn = dn
    for i in range(layers - 2, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        k[i + 1] = int(dn / tn * m1)
        tn = dn
        f[i] = np.exp(-0.5 * dn * dn)
        w[i] = dn / m1
    return k, w, f


_ZK, _ZW, _ZF = _ziggurat_tables()
_TAIL = 3.442619855899
_RETRY = np.uint64(0xD1B54A32D192ED03)  # a second stream for the rare retries


@njit(cache=True, inline="always")
def _unit(z):
    """A uniform on (0, 1) from the top 53 bits of a 64-bit output."""
    return ((z >> np.uint64(11)) + 0.5) * 2.0**-53


@njit(cache=True)
def _normal_slow(key, i, z, zk, zw, zf):
    """The ziggurat's rare path for normal ``i`` whose first output ``z`` was rejected: retries
    draw from outputs ``i * 64 + j`` of a second stream."""
    retry = key ^ _RETRY
    base = np.uint64(i) * np.uint64(64)
    for _ in range(31):
        layer = np.int64(z & np.uint64(127))
        hz = np.int64(np.int32(np.uint32(z >> np.uint64(32))))
        if abs(hz) < zk[layer]:
            return hz * zw[layer]
        if layer == 0:  # the tail beyond 3.44, by Marsaglia's exponential method
            while True:
                x = -np.log(_unit(splitmix64(retry, base))) / _TAIL
                y = -np.log(_unit(splitmix64(retry, base + np.uint64(1))))
                base += np.uint64(2)
                if y + y >= x * x:
                    return _TAIL + x if hz > 0 else -_TAIL - x
        x = hz * zw[layer]
        if zf[layer] + _unit(splitmix64(retry, base)) * (zf[layer - 1] - zf[layer]) < np.exp(-0.5 * x * x):
            return x
        z = splitmix64(retry, base + np.uint64(1))
        base += np.uint64(2)
    return 0.0  # 31 rejections in a row: probability below 1e-50


@njit(cache=True)
def _normals(key, out, zk, zw, zf):
    """Normal ``i`` from output ``i``: its low 7 bits pick the layer, its top 32 bits are the signed
    magnitude (independent bits, unlike the original's shared ones); accepted at once 99 % of the time."""
    flat = out.reshape(-1)
    for i in range(flat.size):
        z = splitmix64(key, np.uint64(i))
        layer = z & np.uint64(127)
        hz = np.int64(np.int32(np.uint32(z >> np.uint64(32))))
        if abs(hz) < zk[layer]:
            flat[i] = hz * zw[layer]
        else:
            flat[i] = _normal_slow(key, i, z, zk, zw, zf)


def normals(key: int, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """Standard normal draws of ``shape`` from the stream ``key`` (value ``i`` is normal ``i``),
    by the ziggurat method, exact in distribution to the 31-bit resolution of its uniforms."""
    out = np.empty(shape, dtype=dtype)
    _normals(check_key(key), out, _ZK, _ZW, _ZF)
    return out
