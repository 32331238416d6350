"""Linear filters that reproduce scikit-image / SciPy / reference conventions with OpenCV."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import cv2
import numpy as np
from numba import njit
from scipy.signal import convolve2d

from ._scratch import scratch
from ._validate import image_hwc
from .quantise import float_or_levels, quantise

# scipy.ndimage mode name -> OpenCV border
_BORDERS = {
    "nearest": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "mirror": cv2.BORDER_REFLECT_101,
}


@lru_cache(maxsize=256)
def gaussian_kernel_1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The normalised 1-D Gaussian that ``scipy.ndimage.gaussian_filter`` uses (read-only, cached:
    the tables repeat a few sigmas, and building it costs more than filtering a small image).

    Its radius is ``int(truncate * sigma + 0.5)``; ``sigma <= 0`` gives the identity ``[1]``.
    """
    if sigma <= 0:
        kernel = np.ones(1, dtype=np.float32)
    else:
        radius = int(truncate * float(sigma) + 0.5)
        x = np.arange(-radius, radius + 1, dtype=np.float64)
        k = np.exp(-0.5 * (x / sigma) ** 2)
        kernel = (k / k.sum()).astype(np.float32)
    kernel.setflags(write=False)
    return kernel


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


def _aliased_disk(radius: float) -> tuple[np.ndarray, int]:
    """The reference's disk mask and its anti-alias blur size: radii up to 8 on a 17 x 17 grid with
    a 3 x 3 blur, larger ones on a ``2r+1`` grid with a 5 x 5 blur."""
    if radius <= 8:
        coords, ksize = np.arange(-8, 8 + 1), 3
    else:
        coords, ksize = np.arange(-radius, radius + 1), 5
    xx, yy = np.meshgrid(coords, coords)
    return (xx**2 + yy**2) <= radius**2, ksize


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The anti-aliased disk of imagecorruptions' ``disk()``, bit for bit."""
    mask, ksize = _aliased_disk(radius)
    aliased = mask.astype(np.float32)
    aliased /= np.sum(aliased)
    return cv2.GaussianBlur(aliased, ksize=(ksize, ksize), sigmaX=alias_blur)


@njit(cache=True)
def _add_terms(out, source, ring, base, rows, starts, weights):
    """``out += sum_t weights[t] * source[(base + rows[t]) % ring, starts[t] : starts[t] + out.size]``.

    Four terms per pass over ``out`` (term counts are padded to a multiple of four with zero
    weights), so ``out`` is loaded and stored once per four terms, in SIMD loops. ``ring`` is the
    number of rows ``source`` holds, a window of a longer sequence, or its height."""
    m = out.size
    for t in range(0, weights.size, 4):
        s0 = source[(base + rows[t]) % ring, starts[t] : starts[t] + m]
        s1 = source[(base + rows[t + 1]) % ring, starts[t + 1] : starts[t + 1] + m]
        s2 = source[(base + rows[t + 2]) % ring, starts[t + 2] : starts[t + 2] + m]
        s3 = source[(base + rows[t + 3]) % ring, starts[t + 3] : starts[t + 3] + m]
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        for i in range(m):
            out[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i]


@njit(cache=True)
def _row_prefix(line, channels, prefix):
    """``prefix[(x + 1) * C + c]`` = sum of ``line[c], line[C + c], ..., line[x * C + c]`` (0 at x = -1).

    For three channels the running sums stay in registers; reading each back from the element
    just written would wait on store forwarding."""
    prefix[:channels] = 0.0
    if channels == 3:
        a0 = a1 = a2 = np.float32(0.0)
        for x in range(line.size // 3):
            a0 += line[3 * x]
            a1 += line[3 * x + 1]
            a2 += line[3 * x + 2]
            prefix[3 * x + 3], prefix[3 * x + 4], prefix[3 * x + 5] = a0, a1, a2
        return
    for k in range(line.size):
        prefix[k + channels] = prefix[k] + line[k]


@njit(cache=True, nogil=True)
def _defocus_rows(flat, channels, out, levels, first, last, size, anchor, pad, horizontal, disk, left_right, vertical,
                  top_bottom, taps):
    """``_defocus_plan``'s sums for output rows ``first`` to ``last``, streamed down the image:
    each padded row is blurred and summed into a window of prefix rows once, as the first output
    row that reads it comes up, so the working set is a few dozen rows (in cache) whatever the
    image's height. Writes ``out`` (float32), or with ``levels`` non-empty the quantised levels
    there instead. Every row's arithmetic is the same whatever ``first`` is (the column sums run
    from the top), so bands computed apart give the bytes of one pass."""
    rows, m = flat.shape[0], out.shape[1]
    quantised = levels.shape[0] > 0
    level_row = np.empty(m, dtype=np.float32)
    line = np.empty(m + 2 * anchor * channels, dtype=np.float32)
    prefix_ring = size + 2 * pad
    prefix = np.empty((prefix_ring, line.size + channels), dtype=np.float32)
    column_ring = 2 * anchor + 2
    columns = np.zeros((column_ring, flat.shape[1]), dtype=np.float32)
    sums_ring = 2 * pad + 1
    sums = np.empty((sums_ring, m), dtype=np.float32)
    next_prefix, next_column = first, 0
    for j in range(first, last + 2 * pad):  # row j of the sums is output row j - pad
        while next_prefix < j + size:
            line[:] = 0.0
            _add_terms(line, flat, rows, next_prefix, *horizontal)
            _row_prefix(line, channels, prefix[next_prefix % prefix_ring])
            next_prefix += 1
        row = sums[j % sums_ring]
        row[:] = 0.0
        _add_terms(row, prefix, prefix_ring, j, *disk)
        if left_right[2].size:
            while next_column <= j + 2 * anchor + 1:  # column prefix row r: the sum of padded rows < r
                if next_column > 0:
                    q, p, s = columns[next_column % column_ring], columns[(next_column - 1) % column_ring], flat[next_column - 1]
                    for i in range(s.size):
                        q[i] = p[i] + s[i]
                next_column += 1
            _add_terms(row, columns, column_ring, j, *left_right)
        y = j - 2 * pad
        if y >= first:
            o = level_row if quantised else out[y]
            o[:] = 0.0
            _add_terms(o, sums, sums_ring, y, *vertical)
            _add_terms(o, prefix, prefix_ring, y, *top_bottom)
            _add_terms(o, flat, rows, y, *taps)
            if quantised:
                dst = levels[y]
                for k in range(m):
                    dst[k] = quantise(o[k])


def _terms(rows, starts, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term arrays for ``_add_terms``, padded to a multiple of four with zero weights."""
    count = -(-len(weights) // 4) * 4
    padded = [np.zeros(count, dtype=dtype) for dtype in (np.int64, np.int64, np.float32)]
    for array, values in zip(padded, (rows, starts, weights)):
        array[: len(values)] = values
    return tuple(padded)


def _blur_along(a: np.ndarray, g: np.ndarray, axis: int, within: bool) -> np.ndarray:
    """``a`` blurred along ``axis`` by ``g``: inside its extent with reflect-101 edges (as
    ``cv2.GaussianBlur`` blurs the disk), or over zeros, ``g.size // 2`` wider on each side."""
    pad = g.size // 2
    widths = [(0, 0), (0, 0)]
    widths[axis] = (pad, pad)
    src = np.pad(a, widths, mode="reflect") if within else np.pad(a, [(2 * w, 2 * w) for w, _ in widths])
    n = src.shape[axis] - 2 * pad
    return sum(g[k] * np.take(src, np.arange(k, k + n), axis=axis) for k in range(g.size))


def _profile_terms(profile: np.ndarray, first: int) -> list[tuple[int, float]]:
    """A 1-D profile (offsets ``first``, ``first + 1``, ...) as prefix-sum terms: the sum of
    ``profile[k] * v[o + first + k]`` is the sum of ``coefficient * V[o + offset]`` over the
    returned ``(offset, coefficient)``, where ``V`` is the exclusive prefix sum of ``v``."""
    edges = np.diff(np.concatenate([[0.0], profile, [0.0]]))
    return [(first + k, -c) for k, c in enumerate(edges) if c != 0.0]


def _prune(*arrays: np.ndarray, budget: float = 1e-4) -> None:
    """Zero the smallest entries of ``arrays`` (in place) while their total weight stays within
    ``budget``: each output moves by at most ``budget`` times the image's range (0.026 gray levels)."""
    values = np.concatenate([np.abs(a).ravel() for a in arrays])
    order = np.argsort(values, kind="stable")
    dropped = order[np.cumsum(values[order]) <= budget]
    flat_mask = np.zeros(values.size, dtype=bool)
    flat_mask[dropped] = True
    at = 0
    for a in arrays:
        a[flat_mask[at : at + a.size].reshape(a.shape)] = 0.0
        at += a.size


@lru_cache(maxsize=64)
def _defocus_plan(radius: float, alias_blur: float, channels: int):
    """:func:`disk_kernel` as what is cheap to apply exactly, for a ``channels``-channel image.

    The kernel ``K`` is an aliased disk ``D`` blurred by a small Gaussian ``g = gv * gh``, but
    blurred inside its own square with reflected edges, which folds about 1 % more weight back in
    where the disk reaches the square's edge (radius 8 and up). Blurring one axis at a time,
    ``K = gv * gh * D + gv * L + gh * T``: ``L`` is what the horizontal pass's reflection adds (and
    its spill outside removes) along the left and right edges, a few columns of the disk, ``T`` the
    same along the top and bottom (exact: a residual of rounding, ~1e-9, is checked and kept as
    taps should it ever matter). So, with ``G`` the row prefix sums of the horizontally blurred
    image and ``C`` the column prefix sums of the image itself, every row of the disk and every
    row of ``T`` is a box, two reads of ``G``; every column of ``L`` a run, two reads of ``C``; and
    the vertical blur a few rows. Entries of ``L``, ``T`` and the residual whose total weight is
    under 1e-4 are left out (0.026 gray levels at most, anywhere).

    Returns ``(size, anchor, pad)`` and the terms of ``_defocus_rows`` (each ``(rows, starts,
    weights)`` for ``_add_terms``): the horizontal blur, the disk on G, L on C, the vertical blur,
    T on G and the residual taps on the padded image (``anchor + pad`` wider on every side).
    """
    mask, ksize = _aliased_disk(radius)
    kernel = disk_kernel(radius, alias_blur).astype(np.float64)
    size, anchor, pad = mask.shape[0], mask.shape[0] // 2, ksize // 2  # filter2D's anchor: the centre
    disk = mask / mask.sum()
    g = cv2.getGaussianKernel(ksize, alias_blur).ravel()
    left_right = np.pad(_blur_along(disk, g, 1, True), ((0, 0), (pad, pad))) - _blur_along(disk, g, 1, False)
    top_bottom = np.pad(_blur_along(disk, g, 0, True), ((pad, pad), (0, 0))) - _blur_along(disk, g, 0, False)
    residual = -(convolve2d(disk, np.outer(g, g)) + convolve2d(left_right, g[:, None]) + convolve2d(top_bottom, g[None, :]))
    residual[pad : pad + size, pad : pad + size] += kernel
    _prune(left_right, top_bottom, residual)
    c = channels
    # Row and column numbers below are those of the padded image for output pixel (0, 0); the
    # blurred image's column x + anchor + dx holds image column x + dx, and the vertical blur's
    # input row j is output row j - pad, so disk row i of that reads padded row j + i.
    disk_terms = [(i, (anchor + dx) * c, w) for i in range(size) if mask[i].any()
                  for dx, w in _profile_terms(disk[i, mask[i]], int(np.argmax(mask[i])) - anchor)]
    lr_terms = [(anchor + dy, i * c, w) for i in range(left_right.shape[1]) if left_right[:, i].any()
                for dy, w in _profile_terms(left_right[:, i], -anchor)]
    horizontal = [(0, k * c, g[k]) for k in range(ksize) if g[k] != 0.0]
    vertical = [(k, 0, g[k]) for k in range(ksize) if g[k] != 0.0]
    tb_terms = [(i, (anchor + dx) * c, w) for i in range(top_bottom.shape[0]) if top_bottom[i].any()
                for dx, w in _profile_terms(top_bottom[i], -anchor)]
    taps = [(i, j * c, residual[i, j]) for i, j in zip(*np.nonzero(residual))]
    terms = (horizontal, disk_terms, lr_terms, vertical, tb_terms, taps)
    return size, anchor, pad, *(_terms(*zip(*t)) if t else _terms((), (), ()) for t in terms)


def defocus_blur(image: np.ndarray, radius: float, alias_blur: float, *, quantised: bool = False) -> np.ndarray:
    """Convolve every channel with :func:`disk_kernel` (OpenCV's default reflect-101 border).

    Computed from prefix sums (see ``_defocus_plan``): the same kernel as ``cv2.filter2D`` with
    :func:`disk_kernel` to within 0.026 gray levels, in a fraction of the multiply-adds (two
    reads per row of the disk and a dozen or two for the kernel's edges, not ``(2r+1)**2``).
    ``quantised=True`` returns uint8 levels instead, truncated as the reference does
    (``quantise.to_uint8`` of the float result, without the float image). Where OpenCV may use
    more than one thread (``cv2.getNumThreads() > 1``, its default; the reference's
    ``cv2.filter2D`` does) images of 64 rows or more are computed in two bands at once, with
    the same bytes; ``cv2.setNumThreads(1)`` keeps it on the calling thread.
    """
    image = image_hwc(image)
    height, width, channels = image.shape
    size, anchor, pad, *terms = _defocus_plan(float(radius), float(alias_blur), channels)
    reach = anchor + pad
    padded = scratch("defocus.padded", (height + 2 * reach, width + 2 * reach, channels))
    if channels <= 4:
        cv2.copyMakeBorder(image, reach, reach, reach, reach, cv2.BORDER_REFLECT_101, dst=padded)
    else:  # OpenCV's limit; NumPy's "reflect" is OpenCV's reflect-101
        padded[:] = np.pad(image, ((reach, reach), (reach, reach), (0, 0)), mode="reflect")
    out = np.empty((height, width, channels), dtype=np.uint8 if quantised else np.float32)
    floats, levels = float_or_levels(out.reshape(height, -1))
    def rows(first, last):
        _defocus_rows(padded.reshape(padded.shape[0], -1), channels, floats, levels, first, last, size, anchor, pad, *terms)

    if cv2.getNumThreads() > 1 and height >= 64:  # two bands at once, as OpenCV's own filters would
        helper = _helper_thread().submit(rows, height // 2, height)
        rows(0, height // 2)
        helper.result()
    else:
        rows(0, height)
    return out


_helper = (None, None)  # (process id, executor): a pool does not survive a fork


def _helper_thread() -> ThreadPoolExecutor:
    """One worker thread per process for kernels that split their rows in two."""
    global _helper
    if _helper[0] != os.getpid():
        _helper = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="corruptgen"))
    return _helper[1]
