"""Linear filters that reproduce scikit-image / SciPy / reference conventions with OpenCV."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from numba import njit
from scipy.signal import convolve2d

from ._scratch import scratch
from ._validate import image_hwc

# scipy.ndimage mode name -> OpenCV border
_BORDERS = {
    "nearest": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "mirror": cv2.BORDER_REFLECT_101,
}


def gaussian_kernel_1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian that ``scipy.ndimage.gaussian_filter`` uses.

    Its radius is ``int(truncate * sigma + 0.5)``; ``sigma <= 0`` gives the identity ``[1]``.
    """
    if sigma <= 0:
        return np.ones(1, dtype=np.float32)
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def apply_per_plane(fn, image: np.ndarray) -> np.ndarray:
    """Call an OpenCV filter on an H x W x C array and give back H x W x C.

    OpenCV drops a trailing axis of length 1 and handles at most 4 channels at once.
    """
    if image.shape[2] <= 4:
        out = fn(image)
        return out.reshape(image.shape)
    return np.stack([fn(image[:, :, c]) for c in range(image.shape[2])], axis=2)


def gaussian_filter(
    image: np.ndarray,
    sigma: float | tuple[float, float],
    *,
    truncate: float = 4.0,
    mode: str = "nearest",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Channel-wise Gaussian blur, equal to ``skimage.filters.gaussian(..., channel_axis=-1)``.

    Parameters
    ----------
    image : float32 array, H x W x C
    sigma : float or (sigma_rows, sigma_cols)
    truncate : radius in standard deviations, as in SciPy.
    mode : ``"nearest"`` (scikit-image's default), ``"reflect"`` or ``"mirror"``.
    out : float32 array of the image's shape to write into (4 channels at most), else a new one.

    Examples
    --------
    >>> import numpy as np
    >>> gaussian_filter(np.ones((8, 8, 3), np.float32), 1.5).shape
    (8, 8, 3)
    """
    image = image_hwc(image)
    if mode not in _BORDERS:
        raise ValueError(f"mode must be one of {sorted(_BORDERS)}; got {mode!r}.")
    sigma_rows, sigma_cols = (sigma, sigma) if np.isscalar(sigma) else sigma
    ky = gaussian_kernel_1d(sigma_rows, truncate)
    kx = gaussian_kernel_1d(sigma_cols, truncate)
    border = _BORDERS[mode]
    if out is not None and image.shape[2] <= 4:
        cv2.sepFilter2D(image, -1, kx, ky, dst=out, borderType=border)
        return out
    return apply_per_plane(lambda a: cv2.sepFilter2D(a, -1, kx, ky, borderType=border), image)


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The anti-aliased disk of imagecorruptions' ``disk()``, bit for bit.

    Radii up to 8 use a 17 x 17 support and a 3 x 3 anti-alias blur, larger ones a
    ``2r+1`` support and a 5 x 5 blur, as the reference does.
    """
    if radius <= 8:
        coords = np.arange(-8, 8 + 1)
        ksize = (3, 3)
    else:
        coords = np.arange(-radius, radius + 1)
        ksize = (5, 5)
    xx, yy = np.meshgrid(coords, coords)
    aliased = np.array((xx**2 + yy**2) <= radius**2, dtype=np.float32)
    aliased /= np.sum(aliased)
    return cv2.GaussianBlur(aliased, ksize=ksize, sigmaX=alias_blur)


@lru_cache(maxsize=32)
def _defocus_plan(radius: float, alias_blur: float):
    """:func:`disk_kernel` split into what is cheap to apply exactly.

    The kernel is an aliased disk ``D`` blurred by a small Gaussian ``g``, but blurred inside its
    own square with reflected edges, so it is not quite ``g * D``: where the disk reaches the
    square's edge (radius 8 and up) the reflection folds about 1 % more weight back in. So
    ``kernel = g * D + E``, with ``g * D`` applied as row-box sums (each row of a disk is a box)
    then a separable blur, and ``E`` (a few dozen taps along the square's edge) as taps: the
    largest ones, leaving out at most 1e-4 of weight (0.026 gray levels at most, anywhere).
    Returns the disk's row half-widths (-1 for an empty row), the disk's size, the 1-D Gaussian
    and the taps ``(dy, dx, weight)``.
    """
    kernel = disk_kernel(radius, alias_blur).astype(np.float64)
    half = kernel.shape[0] // 2
    ksize = 3 if radius <= 8 else 5
    rows = np.arange(-half, half + 1)
    widths = np.array([int(np.floor(np.sqrt(radius**2 - dy * dy))) if dy * dy <= radius**2 else -1 for dy in rows])
    count = int((2 * widths + 1).clip(0).sum())
    xx, yy = np.meshgrid(rows, rows)
    disk = ((xx**2 + yy**2) <= radius**2).astype(np.float64) / count
    gauss = cv2.getGaussianKernel(ksize, alias_blur)
    blurred = convolve2d(disk, gauss @ gauss.T)  # the full blur, ksize // 2 wider on each side
    pad = ksize // 2
    rest = -blurred
    rest[pad : pad + kernel.shape[0], pad : pad + kernel.shape[1]] += kernel
    # the largest taps, leaving out at most 1e-4 of weight (at most 0.026 gray levels anywhere)
    dy, dx = np.nonzero(rest)
    order = np.argsort(-np.abs(rest[dy, dx]), kind="stable")
    left_out = np.cumsum(np.abs(rest[dy, dx])[order][::-1])[::-1]
    keep = order[left_out > 1e-4]
    taps = np.stack([dy[keep] - half - pad, dx[keep] - half - pad]).T.astype(np.int64)
    return widths.astype(np.int64), count, gauss.ravel().astype(np.float32), taps, rest[dy[keep], dx[keep]].astype(np.float32)


@njit(cache=True)
def _row_prefix(padded, prefix):
    """``prefix[y, (x + 1) * C + c]`` = sum of ``padded[y, :x + 1, c]`` (and 0 at x = -1).

    Four rows advance together: each row's running sum is a chain of dependent adds, and four
    independent chains keep the adder busy."""
    rows, cols, channels = padded.shape
    n = cols * channels
    flat = padded.reshape(rows, n)
    prefix[:, :channels] = 0.0
    grouped = rows - rows % 4
    for y in range(0, grouped, 4):
        s0, s1, s2, s3 = flat[y], flat[y + 1], flat[y + 2], flat[y + 3]
        p0, p1, p2, p3 = prefix[y], prefix[y + 1], prefix[y + 2], prefix[y + 3]
        for k in range(n):
            p0[k + channels] = p0[k] + s0[k]
            p1[k + channels] = p1[k] + s1[k]
            p2[k + channels] = p2[k] + s2[k]
            p3[k + channels] = p3[k] + s3[k]
    for y in range(grouped, rows):
        src, row = flat[y], prefix[y]
        for k in range(n):
            row[k + channels] = row[k] + src[k]


@njit(cache=True)
def _weighted_rows(source, rows, starts, weights, out, accumulate):
    """``out[y] (+)= sum_t weights[t] * source[y + rows[t], starts[t] : starts[t] + width]``.

    Four terms per pass over the output row (the term count is padded to a multiple of four
    with zero weights), so the output is loaded and stored once per four terms, in SIMD loops.
    """
    m = out.shape[1]
    for y in range(out.shape[0]):
        o = out[y]
        if not accumulate:
            o[:] = 0.0
        for t in range(0, weights.size, 4):
            s0 = source[y + rows[t]][starts[t] : starts[t] + m]
            s1 = source[y + rows[t + 1]][starts[t + 1] : starts[t + 1] + m]
            s2 = source[y + rows[t + 2]][starts[t + 2] : starts[t + 2] + m]
            s3 = source[y + rows[t + 3]][starts[t + 3] : starts[t + 3] + m]
            w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
            for i in range(m):
                o[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i]


def _terms(rows, starts, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term arrays for ``_weighted_rows``, padded to a multiple of four with zero weights."""
    count = -(-len(weights) // 4) * 4
    padded = [np.zeros(count, dtype=dtype) for dtype in (np.int64, np.int64, np.float32)]
    for array, values in zip(padded, (rows, starts, weights)):
        array[: len(values)] = values
    return tuple(padded)


@lru_cache(maxsize=64)
def _defocus_terms(radius: float, alias_blur: float, channels: int):
    """The disk's row sums as prefix-sum terms (right end +, left end -, scaled by 1 / disk size)
    and the edge taps as image terms, for an ``channels``-channel image padded by ``reach`` (the
    disk's half-size plus the Gaussian's); returns ``(gauss, reach, disk terms, edge terms)``."""
    widths, count, gauss, taps, weights = _defocus_plan(radius, alias_blur)
    half = widths.size // 2
    disk = []
    for k, w in enumerate(widths):
        if w >= 0:  # row k of the disk spans x - w .. x + w: prefix at its right end minus at its left
            disk += [(k, (half + w + 1) * channels, 1.0 / count), (k, (half - w) * channels, -1.0 / count)]
    reach = half + gauss.size // 2
    edge = [(reach + dy, (reach + dx) * channels, w) for (dy, dx), w in zip(taps.tolist(), weights.tolist())]
    return gauss, reach, _terms(*zip(*disk)), _terms(*zip(*edge)) if edge else None


def defocus_blur(image: np.ndarray, radius: float, alias_blur: float) -> np.ndarray:
    """Convolve every channel with :func:`disk_kernel` (OpenCV's default reflect-101 border).

    Computed as the disk's row sums, a small separable Gaussian and the kernel's edge taps (see
    ``_defocus_plan``): the same kernel as ``cv2.filter2D`` with :func:`disk_kernel` to within
    0.026 gray levels, in a fraction of the multiply-adds (21 row sums per pixel for radius 10, not 441).
    """
    image = image_hwc(image)
    height, width, channels = image.shape
    gauss, reach, disk_terms, edge_terms = _defocus_terms(float(radius), float(alias_blur), channels)
    pad = gauss.size // 2
    padded_shape = (height + 2 * reach, width + 2 * reach, channels)
    padded = scratch("defocus.padded", padded_shape)
    if channels <= 4:
        cv2.copyMakeBorder(image, reach, reach, reach, reach, cv2.BORDER_REFLECT_101, dst=padded)
    else:  # OpenCV's limit; NumPy's "reflect" is OpenCV's reflect-101
        padded[:] = np.pad(image, ((reach, reach), (reach, reach), (0, 0)), mode="reflect")
    prefix = scratch("defocus.prefix", (padded_shape[0], (padded_shape[1] + 1) * channels))
    _row_prefix(padded, prefix)
    sums = scratch("defocus.sums", (height + 2 * pad, width + 2 * pad, channels))
    # disk sums for the centres the Gaussian reads: the prefix row of disk row k starts at k
    _weighted_rows(prefix, *disk_terms, sums.reshape(sums.shape[0], -1), False)
    if channels <= 4:  # into a work array too: the only new array is the output
        blurred = cv2.sepFilter2D(sums, -1, gauss, gauss, dst=scratch("defocus.blurred", sums.shape))
    else:
        blurred = apply_per_plane(lambda a: cv2.sepFilter2D(a, -1, gauss, gauss), sums)
    out = np.ascontiguousarray(blurred.reshape(sums.shape)[pad : pad + height, pad : pad + width])
    if edge_terms is not None:  # taps read the padded image around each output pixel
        _weighted_rows(padded.reshape(padded_shape[0], -1), *edge_terms, out.reshape(height, -1), True)
    return out
