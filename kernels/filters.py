"""Linear filters that reproduce scikit-image / SciPy / reference conventions with OpenCV."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import cv2
import numpy as np
from numba import njit

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
def _wrap(row, ring):
    return row - ring if row >= ring else row


@njit(cache=True, nogil=True)
def _run_sums(acc, source, base, runs, first, last):
    """``acc[i] = sum of source[base + r1, c1 + i] - source[base + r0, c0 + i]`` over the runs
    ``(r1, c1, r0, c0)`` in rows ``first`` to ``last`` of ``runs``, in ``acc``'s 16-bit integer
    type, rows counted round ``source`` (a ring). The arithmetic wraps: every sum read back is
    exact modulo 2**16. Four runs per pass."""
    n, ring = acc.size, source.shape[0]
    base %= ring  # then a row is base + r, less ring past the end: no division per run
    acc[:] = 0
    t = first
    while t + 4 <= last:
        r1, c1, r0, c0 = runs[t]
        a0, b0 = source[_wrap(base + r1, ring), c1 : c1 + n], source[_wrap(base + r0, ring), c0 : c0 + n]
        r1, c1, r0, c0 = runs[t + 1]
        a1, b1 = source[_wrap(base + r1, ring), c1 : c1 + n], source[_wrap(base + r0, ring), c0 : c0 + n]
        r1, c1, r0, c0 = runs[t + 2]
        a2, b2 = source[_wrap(base + r1, ring), c1 : c1 + n], source[_wrap(base + r0, ring), c0 : c0 + n]
        r1, c1, r0, c0 = runs[t + 3]
        a3, b3 = source[_wrap(base + r1, ring), c1 : c1 + n], source[_wrap(base + r0, ring), c0 : c0 + n]
        for i in range(n):
            acc[i] += ((a0[i] - b0[i]) + (a1[i] - b1[i])) + ((a2[i] - b2[i]) + (a3[i] - b3[i]))
        t += 4
    for u in range(t, last):
        r1, c1, r0, c0 = runs[u]
        a0, b0 = source[_wrap(base + r1, ring), c1 : c1 + n], source[_wrap(base + r0, ring), c0 : c0 + n]
        for i in range(n):
            acc[i] += a0[i] - b0[i]


@njit(cache=True, nogil=True)
def _add_groups(out, acc, source, base, runs, bounds, weights):
    """``out += sum_k weights[k] * (group k's run sums)`` over the groups of runs (``bounds[k]``
    to ``bounds[k + 1]``), each summed exactly in ``acc`` (uint16 or int16) first."""
    for k in range(weights.size):
        _run_sums(acc, source, base, runs, bounds[k], bounds[k + 1])
        w = weights[k]
        for i in range(out.size):
            out[i] += w * np.float32(acc[i])


@njit(cache=True, nogil=True)
def _blur(out, taps, weights):
    """``out += sum_k weights[k] * taps[k]`` for three or five taps (1-D arrays), in one pass."""
    a, b, c = taps[0], taps[1], taps[2]
    g0, g1, g2 = weights[0], weights[1], weights[2]
    if weights.size == 3:
        for i in range(out.size):
            out[i] += g0 * a[i] + g1 * b[i] + g2 * c[i]
        return
    d, e, g3, g4 = taps[3], taps[4], weights[3], weights[4]
    for i in range(out.size):
        out[i] += g0 * a[i] + g1 * b[i] + g2 * c[i] + g3 * d[i] + g4 * e[i]


@njit(cache=True, nogil=True)
def _integer_prefix(line, channels, prefix):
    """``prefix[(x + 1) * C + c]`` = the sum of ``line``'s channel-c values up to column x
    (uint16, wrapping: differences of up to 257 levels stay exact)."""
    prefix[:channels] = 0
    if channels == 3:  # running sums in registers; reading each back from memory waits on the store
        a0 = a1 = a2 = np.uint16(0)
        for x in range(line.size // 3):
            a0 += line[3 * x]
            a1 += line[3 * x + 1]
            a2 += line[3 * x + 2]
            prefix[3 * x + 3], prefix[3 * x + 4], prefix[3 * x + 5] = a0, a1, a2
    else:
        for v in range(line.size):
            prefix[v + channels] = prefix[v] + line[v]


@njit(cache=True, nogil=True)
def _shifted(line, channels, m, count):
    """``count`` (3 or 5) views of ``m`` values of ``line``, a pixel apart: a horizontal blur's taps."""
    c = channels
    if count == 3:
        return line[:m], line[c : c + m], line[2 * c : 2 * c + m], line[:0], line[:0]
    return line[:m], line[c : c + m], line[2 * c : 2 * c + m], line[3 * c : 3 * c + m], line[4 * c : 4 * c + m]


@njit(cache=True, nogil=True)
def _ring_rows(ring, first, m, count):
    """``count`` (3 or 5) consecutive rows of ``ring`` from row ``first`` on: a vertical blur's taps."""
    n = ring.shape[0]
    if count == 3:
        return ring[first % n], ring[(first + 1) % n], ring[(first + 2) % n], ring[first % n][:0], ring[first % n][:0]
    return ring[first % n], ring[(first + 1) % n], ring[(first + 2) % n], ring[(first + 3) % n], ring[(first + 4) % n]


@njit(cache=True, nogil=True)
def _defocus_rows(padded, channels, prefix, columns, out, levels, first, last, pad, gauss, gauss_scaled,
                  disk, disk_bounds, disk_weights, left_right, left_right_bounds, left_right_weights,
                  top_bottom, top_bottom_bounds, top_bottom_weights, taps):
    """``_defocus_plan``'s sums for output rows ``first`` to ``last`` (see there), streamed down
    the image: ``prefix`` (rings of ``2 * reach + 1`` rows) and ``columns`` (``2 * reach - 2 * pad
    + 2``) receive the integer row and column prefix sums of the padded rows as the first output
    row that reads them comes up, so the working set stays in cache. Writes ``out`` (float32),
    or with ``levels`` non-empty the quantised levels there instead. The integer sums are exact,
    and a row's float arithmetic is the same wherever a band starts, so bands give one pass's bytes."""
    prefix_ring, column_ring = prefix.shape[0], columns.shape[0]
    size = prefix_ring - 2 * pad
    next_prefix, next_column = 0, 1
    columns[0, :] = 0
    m = out.shape[1]
    wide = m + 2 * pad * channels
    quantised = levels.shape[0] > 0
    ring = 2 * pad + 1
    sums = np.empty((ring, m), dtype=np.float32)
    disk_sum = np.empty(wide, dtype=np.float32)
    top_bottom_sum = np.empty(wide, dtype=np.float32)
    counts = np.empty(wide, dtype=np.uint16)
    signed = np.empty(wide, dtype=np.int16)
    level_row = np.empty(m, dtype=np.float32)
    for z in range(first - pad, last + pad):  # sums row z: the disk blurred across, plus L, about output row z
        base = z + pad - first  # the band's row under the disk's top row
        while next_prefix < base + size:
            _integer_prefix(padded[first + next_prefix], channels, prefix[next_prefix % prefix_ring])
            next_prefix += 1
        while next_column <= base + size:  # columns[k]: the band's rows above row k
            above, below = columns[(next_column - 1) % column_ring], columns[next_column % column_ring]
            line = padded[first + next_column - 1]
            for v in range(line.size):
                below[v] = above[v] + line[v]
            next_column += 1
        disk_sum[:] = 0.0
        _add_groups(disk_sum, counts, prefix, base, disk, disk_bounds, disk_weights)
        s = sums[(z + pad - first) % ring]
        s[:] = 0.0
        _blur(s, _shifted(disk_sum, channels, m, gauss.size), gauss_scaled)
        _add_groups(s, signed[:m], columns, base, left_right, left_right_bounds, left_right_weights)
        y = z - pad
        if y < first:
            continue
        o = level_row if quantised else out[y]
        o[:] = 0.0
        _blur(o, _ring_rows(sums, y - first, m, gauss.size), gauss)
        if top_bottom_weights.size:
            top_bottom_sum[:] = 0.0
            _add_groups(top_bottom_sum, signed, prefix, y - first, top_bottom, top_bottom_bounds, top_bottom_weights)
            _blur(o, _shifted(top_bottom_sum, channels, m, gauss.size), gauss)
        for t in range(taps.shape[0]):
            src, w = padded[y + int(taps[t, 0]), int(taps[t, 1]) * channels :], np.float32(taps[t, 2])
            for i in range(m):
                o[i] += w * np.float32(src[i])
        if quantised:
            dst = levels[y]
            for i in range(m):
                dst[i] = quantise(o[i])


def _runs(matrix: np.ndarray, along_rows: bool, channels: int) -> list[tuple[tuple[int, int, int, int], int, int]]:
    """An integer matrix (entries -1, 0, 1) as runs of equal entries along its rows (read on the
    row prefix sums) or down its columns (on the column prefix sums): ``((r1, c1, r0, c0), sign,
    pixels)``, the ends swapped for a negative run so that ``_run_sums`` only adds."""
    runs = []
    for k, line in enumerate(matrix if along_rows else matrix.T):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], line, [0]])))
        for start, stop in zip(edges[:-1], edges[1:]):
            sign = int(line[start])
            if sign:
                if along_rows:  # row k, columns start .. stop - 1
                    ends = (k, stop * channels), (k, start * channels)
                else:  # column k, rows start .. stop - 1
                    ends = (stop, k * channels), (start, k * channels)
                high, low = ends if sign > 0 else ends[::-1]
                runs.append((high + low, sign, stop - start))
    return runs


def _groups(weighted_runs, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(runs, bounds, weights)`` for ``_add_groups``: each weight's runs, in as few groups as
    hold them with at most ``limit`` pixels of either sign each (a group's sum has to be exact
    in 16 bits): the longest runs first, each into the first group with room."""
    runs, bounds, weights = [], [0], []
    for weight, weight_runs in weighted_runs:
        groups = []  # [runs, pixels counted +, pixels counted -]
        for ends, sign, pixels in sorted(weight_runs, key=lambda run: -run[2]):
            group = next((g for g in groups if g[1 if sign > 0 else 2] + pixels <= limit), None)
            if group is None:
                group = [[], 0, 0]
                groups.append(group)
            group[0].append(ends)
            group[1 if sign > 0 else 2] += pixels
        for group_runs, _, _ in groups:
            runs += group_runs
            bounds.append(len(runs))
            weights.append(weight)
    return (np.array(runs, dtype=np.int64).reshape(-1, 4), np.array(bounds, dtype=np.int64),
            np.array(weights, dtype=np.float32))


def _prune(residual: np.ndarray, budget: float = 2e-4) -> None:
    """Zero the smallest entries of ``residual`` (in place) while their total weight stays within
    ``budget``: each output moves by at most ``budget`` times the image's range (0.051 gray levels)."""
    values = np.abs(residual).ravel()
    order = np.argsort(values, kind="stable")
    dropped = order[np.cumsum(values[order]) <= budget]
    residual.reshape(-1)[dropped] = 0.0


def _reflect_fix(mask: np.ndarray, shift: int, pad: int) -> np.ndarray:
    """What one tap (``shift`` columns over) of a blur across the rows of ``mask`` inside its own
    square with reflect-101 edges adds, against the same blur over zeros: an integer matrix
    ``pad`` columns wider on each side (the reflected pixels in, the spilled ones out)."""
    rows, size = mask.shape
    fix = np.zeros((rows, size + 2 * pad), dtype=np.int64)
    for j in range(-pad, size + pad):
        source = j + shift
        if 0 <= j < size:
            reflected = -source if source < 0 else 2 * (size - 1) - source if source >= size else source
            fix[:, j + pad] += mask[:, reflected]
        if 0 <= source < size:
            fix[:, j + pad] -= mask[:, source]
    return fix


@lru_cache(maxsize=64)
def _defocus_plan(radius: float, alias_blur: float, channels: int):
    """:func:`disk_kernel` as exact integer sums of the image's levels and a few float weights.

    The kernel ``K`` is the aliased disk ``D`` (``N`` pixels) blurred by a small Gaussian ``g``
    inside its own square with reflect-101 edges. Blurring one axis at a time, ``N K = gv * gh * D
    + gv * sum_b g_b L_b + gh * sum_a g_a T_a``: ``L_b`` is what tap ``b`` of the horizontal pass
    reflects in (and spills out) at the square's left and right edges, ``T_a`` the same for the
    vertical pass at the top and bottom, both integer matrices of a few pixels. So the disk's sum
    over the image's levels is one run per disk row on integer row prefix sums, each ``L_b`` a few
    runs down integer column prefix sums, each ``T_a`` a few runs along rows; all exact, in 16
    bits; floats enter only to weigh these sums and to blur them (``g``). What ``K`` has beyond
    that (float32 rounding; taps under 1e-3 of the edge terms and under 1e-9 of the blur) is
    left out while its total weight stays under 2e-4 (0.051 gray levels at most; 0.013 measured
    at the benchmark's severities), else kept as taps.

    Returns ``pad`` (the blur's radius), ``reach`` (the padding every side needs), the blur's
    weights ``g`` (0 where left out) and ``g / (255 N)``, then ``(runs, bounds, weights)`` of the
    disk, of L and of T, and the taps ``(row, column, weight / 255)`` on the padded levels.
    """
    mask, ksize = _aliased_disk(radius)
    size, anchor, pad = mask.shape[0], mask.shape[0] // 2, ksize // 2
    n = int(mask.sum())
    g = cv2.getGaussianKernel(ksize, alias_blur).ravel()
    blur = np.where(g >= 1e-9, g, 0.0)
    edge_taps = [b for b in range(ksize) if g[b] >= 1e-3]
    counts = mask.astype(np.int64)
    disk_runs = _runs(counts, True, channels)
    left_right = {b: _reflect_fix(counts, b - pad, pad) for b in edge_taps}
    top_bottom = {a: _reflect_fix(counts.T, a - pad, pad).T for a in edge_taps}
    from scipy.signal import convolve2d  # here, once per plan: scipy.signal costs 0.5 s to import

    # what the runs and weights below add up to, on the (size + 2 pad)-square grid, against K
    kept = convolve2d(mask, np.outer(blur, blur))
    for b in edge_taps:
        kept += g[b] * convolve2d(left_right[b], blur[:, None]) + g[b] * convolve2d(top_bottom[b], blur[None, :])
    residual = -kept / n
    residual[pad : pad + size, pad : pad + size] += disk_kernel(radius, alias_blur)
    _prune(residual)
    scale = 1.0 / (255.0 * n)
    disk = _groups([(1.0, disk_runs)], 65535 // 255)

    def by_weight(fixes, along_rows):  # taps of equal weight (g is symmetric) summed as one pattern
        weights = sorted({g[b] for b in fixes if fixes[b].any()}, reverse=True)
        return _groups([(w * scale, [run for b in fixes if g[b] == w for run in _runs(fixes[b], along_rows, channels)])
                        for w in weights], 32767 // 255)

    # L's rows are the disk's, its columns the padded image's from the output's; T's rows start pad higher
    lr, tb = by_weight(left_right, False), by_weight(top_bottom, True)
    taps = np.array([(i, j, residual[i, j] / 255) for i, j in zip(*np.nonzero(residual))], dtype=np.float64).reshape(-1, 3)
    return pad, anchor + pad, blur.astype(np.float32), (blur * scale).astype(np.float32), *disk, *lr, *tb, taps


def defocus_blur(levels: np.ndarray, radius: float, alias_blur: float, *, quantised: bool = False) -> np.ndarray:
    """Convolve every channel of a uint8 image, as values ``levels / 255``, with :func:`disk_kernel`
    (OpenCV's default reflect-101 border), as the reference's ``cv2.filter2D`` does.

    Computed from integer prefix sums of the levels (see ``_defocus_plan``): the kernel's disk,
    edges and blur as exact sums and a few float weights, to within 0.051 gray levels of
    ``cv2.filter2D`` in float64 (0.013 measured), in a fraction of its work. ``quantised=True``
    returns uint8 levels instead, truncated as the reference does (``quantise.to_uint8`` of the
    float result, without the float image). Where OpenCV may use more than one thread (``cv2.getNumThreads()
    > 1``, its default; the reference's ``cv2.filter2D`` does) images of 64 rows or more are
    computed in two bands at once, with the same bytes; ``cv2.setNumThreads(1)`` keeps it on
    the calling thread.
    """
    levels = image_hwc(levels, "levels", np.uint8)
    height, width, channels = levels.shape
    pad, reach, *plan = _defocus_plan(float(radius), float(alias_blur), channels)
    padded = scratch("defocus.padded", (height + 2 * reach, width + 2 * reach, channels), np.uint8)
    if channels <= 4:
        cv2.copyMakeBorder(levels, reach, reach, reach, reach, cv2.BORDER_REFLECT_101, dst=padded)
    else:  # OpenCV's limit; NumPy's "reflect" is OpenCV's reflect-101
        padded[:] = np.pad(levels, ((reach, reach), (reach, reach), (0, 0)), mode="reflect")
    flat = padded.reshape(padded.shape[0], -1)
    out = np.empty((height, width, channels), dtype=np.uint8 if quantised else np.float32)
    floats, quantised_rows = float_or_levels(out.reshape(height, -1))

    def rows(first, last):
        prefix = scratch("defocus.prefix", (2 * reach + 1, flat.shape[1] + channels), np.uint16)
        columns = scratch("defocus.columns", (2 * (reach - pad) + 2, flat.shape[1]), np.uint16)
        _defocus_rows(flat, channels, prefix, columns, floats, quantised_rows, first, last, pad, *plan)

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
