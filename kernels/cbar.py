"""ImageNet-C-bar's and CIFAR-10-C-bar's kernels (facebookresearch/augmentation-corruption,
``imagenet_c_bar/corrupt.py``): the reference's per-pixel Python loops as Numba kernels or whole-array
NumPy, with its arithmetic (float32 where it casts, truncation to uint8, zero-padded bilinear sampling,
``(row, col)`` points) so that fed the same parameters they give its pixels.

Every function takes an ``H x W x 3`` uint8 RGB image and plain parameters (the draws are made by
:mod:`corruptgen.corruptions.cbar`); the bulk noise of the spectral fields, the sparkles' rays, the
Perlin tables, the checkerboard's cells and the lines come from ``numpy.random.RandomState(seed)``,
as in the reference, so one drawn ``seed`` reproduces them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._validate import image_hwc


def _rgb(image: np.ndarray) -> np.ndarray:
    image = image_hwc(image, "image", np.uint8)
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels (RGB); got {image.shape[2]}.")
    return image


def _truncate(values: np.ndarray) -> np.ndarray:
    """``np.clip(values, 0, 255).astype(np.uint8)``: the reference's conversion (it truncates)."""
    return np.clip(values, 0, 255).astype(np.uint8)


@njit(cache=True, inline="always")
def _bilinear(image, row, col, out):
    """The reference's ``bilinear_interpolation`` at ``(row, col)``: neighbours outside read 0;
    the weights in float64 on the image's values."""
    height, width, channels = image.shape
    top = int(math.floor(row))  # the reference's l, u, r, d: rows top and top + 1, columns left and left + 1
    left = int(math.floor(col))
    bottom, right = top + 1, left + 1
    w_left = 1.0 - col + left
    w_right = 1.0 - right + col
    w_top = 1.0 - row + top
    w_bottom = 1.0 - bottom + row
    for c in range(channels):
        tl = float(image[top, left, c]) if 0 <= top < height and 0 <= left < width else 0.0
        tr = float(image[top, right, c]) if 0 <= top < height and 0 <= right < width else 0.0
        bl = float(image[bottom, left, c]) if 0 <= bottom < height and 0 <= left < width else 0.0
        br = float(image[bottom, right, c]) if 0 <= bottom < height and 0 <= right < width else 0.0
        out[c] = (tl * w_left + tr * w_right) * w_top + (bl * w_left + br * w_right) * w_bottom


# ---- additive and multiplicative fields ----

def single_frequency_greyscale(image: np.ndarray, freq: tuple[float, float], phase: float, intensity: float) -> np.ndarray:
    """One plane wave ``sin(x f0 + y f1 + phase)`` added to every channel, times ``intensity``."""
    image = _rgb(image)
    y, x = np.indices(image.shape[:2], dtype=np.float64)
    noise = np.sin(x * freq[0] + y * freq[1] + phase)
    return _truncate(image + intensity * noise[:, :, None])


def cocentric_sine_waves(image: np.ndarray, offset: tuple[float, float], freq: float, amplitude: float,
                         ring_width: float, intensity: float) -> np.ndarray:  # fmt: skip
    """Rings about ``offset`` (x, y): a sawtooth of the distance, wobbled by ``sin(angle * freq)``."""
    image = _rgb(image)
    y, x = np.indices(image.shape[:2], dtype=np.float64)
    dx, dy = x - offset[0], y - offset[1]
    angle = np.arctan2(dx, dy) * freq
    distance = np.mod(np.sqrt(dx**2 + dy**2) + np.sin(angle) * amplitude, ring_width) / ring_width - 0.5
    return _truncate(image + (intensity * distance)[:, :, None])


@njit(cache=True)
def _plasma(height, width, time, iterations, sharpness, scale):
    out = np.empty((height, width, 3))
    for row in range(height):
        for col in range(width):
            x, y = col / scale, row / scale
            i0, i1, i2, i3 = 1.0, 1.0, 1.0, 0.0
            for _ in range(iterations):
                r0 = math.cos(y * i0 - i3 + time / i1) / i2
                r1 = math.sin(x * i0 - i3 + time / i1) / i2
                r0, r1 = r0 - r1 * 0.3, r1 + r0 * 0.3
                x += r0
                y += r1
                i0, i1, i2, i3 = i0 * 1.93, i1 * 1.15, i2 * (2.25 - sharpness), i3 * (time * i1)
            out[row, col, 0] = math.sin(x - time)
            out[row, col, 1] = math.sin((x + y + math.sin(time)) * 0.5)
            out[row, col, 2] = math.sin(y + time)
    return out


def plasma_noise(image: np.ndarray, time: float, iterations: int, sharpness: float, scale: float,
                 intensity: float) -> np.ndarray:  # fmt: skip
    """A coloured plasma field of ``iterations`` warps, blended in with weight ``intensity / 255``."""
    image = _rgb(image)
    noise = _plasma(image.shape[0], image.shape[1], float(time), int(iterations), float(sharpness), float(scale))
    return _truncate((1 - intensity / 255) * image + intensity * noise)


@njit(cache=True)
def _star(image, center_row, center_col, radius, lengths, exponent, inverse, out):
    """One sparkle (or, ``inverse``, one star of image on white) over ``image`` into ``out``."""
    height, width = image.shape[:2]
    rays = lengths.shape[0]
    for row in range(height):
        for col in range(width):
            dy, dx = row - center_row, col - center_col
            dist = math.sqrt(dy * dy + dx * dx)
            d = (math.atan2(dx, dy) + math.pi) / (2 * math.pi) * rays
            i = int(d)
            f = d - i
            if radius != 0:
                length = lengths[i % rays] + f * (lengths[(i + 1) % rays] - lengths[i % rays])
                g = (length**2 / (dist**2 + 1e-4)) ** exponent
                f = (1 - (f - 0.5) ** 2) * g
            f = min(max(f, 0.0), 1.0)
            for c in range(3):
                value = np.float64(np.float32(image[row, col, c]))  # the reference reads float32
                out[row, col, c] = 255.0 + f * (value - 255.0) if inverse else value + f * (255.0 - value)


def sparkles(image: np.ndarray, centers: np.ndarray, radius: float, nrays: np.ndarray, seed: int) -> np.ndarray:
    """Five white stars at ``centers`` (row, col), applied one after another; ray lengths
    ``max(1, r + 0.25 r z)`` from ``RandomState(seed)``, one stream for all five."""
    image = _rgb(image)
    state = np.random.RandomState(seed)
    current = image.astype(np.float64)
    for center, rays in zip(np.asarray(centers, float), np.asarray(nrays)):
        lengths = np.maximum(1.0, radius + 0.25 * radius * state.randn(int(rays)))
        out = np.empty_like(current)
        _star(current, center[0], center[1], float(radius), lengths, 1.0, False, out)
        current = out
    return _truncate(current)


def inverse_sparkles(image: np.ndarray, center: np.ndarray, radius: float, rays: int, amount: float, seed: int) -> np.ndarray:
    """The image inside one star of ``rays`` rays, fading to white outside with exponent
    ``(100 - amount) / 50``; ray lengths ``r + 0.25 r z`` from ``RandomState(seed)``."""
    image = _rgb(image)
    lengths = radius + 0.25 * radius * np.random.RandomState(seed).randn(int(rays))
    out = np.empty(image.shape)
    _star(image, float(center[0]), float(center[1]), float(radius), lengths, (100 - amount) / 50.0, True, out)
    return _truncate(out)


def perlin_tables(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ken Perlin's reference permutation (514) and unit gradients (514 x 2) from ``RandomState(seed)``,
    drawn as the reference's ``PerlinNoiseGenerator`` draws them (a zero draw stays zero; see below)."""
    state = np.random.RandomState(seed)
    raw = (state.randint(0, 2**31, size=(514, 2)) % 512 - 256) / 256
    length = np.linalg.norm(raw, axis=1, keepdims=True)
    # a (0, 0) draw (once in 262,144) has no direction: the reference divides by zero and its NaN
    # blacks out every pixel near that lattice point; here it stays (0, 0), a flat patch of noise
    gradients = np.divide(raw, length, out=np.zeros_like(raw), where=length > 0)
    perm = np.arange(514)
    for i in range(255, -1, -1):
        j = state.randint(0, 2**31) % 256
        perm[i], perm[j] = perm[j], perm[i]
    for i in range(258):  # one at a time, as the reference: entries 512 and 513 copy the copies of 0 and 1
        perm[256 + i] = perm[i]
        gradients[256 + i] = gradients[i]
    return perm, gradients


@njit(cache=True, inline="always")
def _perlin(perm, grad, x, y):
    t = x + 4096.0
    bx0 = int(t) % 256
    bx1 = (bx0 + 1) % 256
    rx0 = t % 1.0
    rx1 = rx0 - 1.0
    t = y + 4096.0
    by0 = int(t) % 256
    by1 = (by0 + 1) % 256
    ry0 = t % 1.0
    ry1 = ry0 - 1.0
    i, j = perm[bx0], perm[bx1]
    b00, b10, b01, b11 = perm[i + by0], perm[j + by0], perm[i + by1], perm[j + by1]
    sx = rx0**2 * (3.0 - 2.0 * rx0)
    sy = ry0**2 * (3.0 - 2.0 * ry0)
    u = rx0 * grad[b00, 0] + ry0 * grad[b00, 1]
    v = rx1 * grad[b10, 0] + ry0 * grad[b10, 1]
    a = u + sx * (v - u)
    u = rx0 * grad[b01, 0] + ry1 * grad[b01, 1]
    v = rx1 * grad[b11, 0] + ry1 * grad[b11, 1]
    b = u + sx * (v - u)
    return 1.5 * (a + sy * (b - a))


@njit(cache=True)
def _perlin_haze(image, perm, grad, step, alpha):
    height, width = image.shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    keep = np.float32(1 - alpha)
    for row in range(height):
        for col in range(width):
            a, b = row * step, col * step  # the reference's first coordinate is the row
            turbulence, f = 0.0, 1.0
            while f <= 16.0:
                turbulence += abs(_perlin(perm, grad, f * a, f * b)) / f
                f *= 2.0
            haze = min(max(0.5 * turbulence + 0.5, 0.0), 1.0)
            for c in range(3):
                v = np.float64(keep * np.float32(image[row, col, c])) + 255 * alpha * haze
                out[row, col, c] = np.uint8(min(max(v, 0.0), 255.0))
    return out


def perlin_noise(image: np.ndarray, seed: int, alpha: float, step: float) -> np.ndarray:
    """A grey haze of 5-octave Perlin turbulence (``0.5 t + 0.5``) at ``step`` noise units per pixel,
    blended in with weight ``alpha``."""
    image = _rgb(image)
    perm, grad = perlin_tables(seed)
    return _perlin_haze(image, perm, grad, float(step), float(alpha))


def spectral_fields(shape: tuple[int, int], seed: int, count: int, amplitude) -> np.ndarray:
    """``count`` fields of random phase and amplitude ``amplitude(distance from the centre)``,
    drawn one after another from ``RandomState(seed)`` as the reference's ``gen_noise``, each divided
    by its standard deviation. (For an odd width the reference's centre column is kept.)"""
    from scipy.fft import ifft2

    height, width = shape
    state = np.random.RandomState(seed)
    y, x = np.indices(shape, dtype=np.float64)
    power = amplitude(np.sqrt((x - width / 2) ** 2 + (y - height / 2) ** 2))
    fields = []
    for _ in range(count):
        phases = state.uniform(0, 2 * np.pi, size=(height, width // 2))
        if width % 2 == 0:
            phases = np.concatenate((phases, phases[::-1, ::-1]), axis=1)
        else:
            centre = state.uniform(0, 2 * np.pi, size=(height // 2, 1))
            centre = np.concatenate((centre, np.zeros((height - 2 * (height // 2), 1)), centre[::-1]), axis=0)
            phases = np.concatenate((phases, centre, phases[::-1, ::-1]), axis=1)
        spectrum = power * (np.cos(phases) + np.sin(phases) * 1j)
        spectrum = np.roll(spectrum, (height // 2, width // 2), axis=(0, 1))
        noise = np.real(ifft2(spectrum))
        fields.append(noise / np.std(noise))
    return np.stack(fields, axis=2)


def blue_noise_sample(image: np.ndarray, seed: int, threshold: float) -> np.ndarray:
    """Black out the pixels where a blue-noise field (amplitude proportional to frequency) is at or
    below ``threshold`` (in standard deviations)."""
    image = _rgb(image)
    field = spectral_fields(image.shape[:2], seed, 1, lambda k: k)[:, :, 0]
    return _truncate(image * (field > threshold)[:, :, None])


def brownish_noise(image: np.ndarray, seed: int, intensity: float) -> np.ndarray:
    """Add a field of amplitude ``1 / (k^2 + 1)`` per channel (three draws), times ``intensity``; its
    DC term is 1, so each channel also gets a random cast, as in the reference."""
    image = _rgb(image)
    return _truncate(image + intensity * spectral_fields(image.shape[:2], seed, 3, lambda k: 1 / (k**2 + 1)))


def checkerboard_cutout(image: np.ndarray, angle: float, scale: float, fraction: float, seed: int) -> np.ndarray:
    """A checkerboard of ``scale`` px cells rotated by ``angle``; each cell of one colour is filled
    with grey 128 with probability ``fraction`` (cells from ``RandomState(seed)``)."""
    image = _rgb(image)
    side = max(image.shape[:2])
    cells = int(4 * side // scale)
    grid = np.random.RandomState(seed).uniform(size=(cells, cells)) < fraction
    y, x = np.indices(image.shape[:2], dtype=np.float64)
    nx = (np.cos(angle) * y + np.sin(angle) * x) / scale
    ny = (-np.sin(angle) * y + np.cos(angle) * x) / scale
    # Python's int() truncates toward zero and a negative index wraps, as the reference indexes
    cut = (np.trunc(np.mod(nx, 2)) == np.trunc(np.mod(ny, 2))) & grid[np.trunc(nx).astype(int) % cells,
                                                                         np.trunc(ny).astype(int) % cells]  # fmt: skip
    out = image.copy()
    out[cut] = 128
    return out


@njit(cache=True)
def _caustics(height, width, time, size):
    out = np.empty((height, width))
    for row in range(height):
        for col in range(width):
            p0 = ((row / size) % 1.0) * 6.28318530718 - 250
            p1 = ((col / size) % 1.0) * 6.28318530718 - 250
            i0, i1 = p0, p1
            c = 1.0
            for n in range(5):
                t = time * (1.0 - (3.5 / (n + 1)))
                i0, i1 = p0 + (math.cos(t - i0) + math.sin(t + i1)), p1 + (math.sin(t - i1) + math.cos(t + i0))
                c += 1.0 / math.sqrt((p0 / (math.sin(i0 + t) / 0.005)) ** 2 + (p1 / (math.cos(i1 + t) / 0.005)) ** 2)
            c /= 5.0
            c = 1.17 - c**1.4
            out[row, col] = min(max(abs(c) ** 8.0, 0.0), 1.0)
    return out


@njit(cache=True)
def _refract(image, caustics, lens_scale, lighting):
    height, width = image.shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    pixel = np.empty(3)
    for row in range(height):
        for col in range(width):
            north = caustics[row, col - 1] if col >= 1 else 0.0
            south = caustics[row, col + 1] if col + 1 < width else 0.0
            west = caustics[row - 1, col] if row >= 1 else 0.0
            east = caustics[row + 1, col] if row + 1 < height else 0.0
            n0, n1, n2 = east - west, south - north, 1.0
            norm = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
            n0, n1, n2 = n0 / norm, n1 / norm, n2 / norm
            d0 = d1 = 0.0
            if abs(n2) < 1.0 - 1e-3:  # refract([0, 0, 1], n, eta=4) in closed form; else straight through
                factor = math.sqrt(1.0 - (n0 * n0 + n1 * n1) / 16.0) - n2 / 4.0
                d0 = np.round(n0 * factor * lens_scale, 3)
                d1 = np.round(n1 * factor * lens_scale, 3)
            _bilinear(image, row + d0, col + d1, pixel)
            for c in range(3):
                v = pixel[c] + (north - south) * lighting
                v = min(max(v + (east - west) * lighting, 0.0), 1.0)
                out[row, col, c] = np.uint8(v * 255)
    return out


def caustic_refraction(image: np.ndarray, time: float, size: float, lens_scale: float, lighting: float) -> np.ndarray:
    """Look through water: a tileable caustic field (period ``size`` px), blurred (sigma 1), whose
    gradient refracts the image (index 4, displacement up to ``lens_scale``) and lights it."""
    from scipy.ndimage import gaussian_filter

    image = _rgb(image)
    caustics = gaussian_filter(_caustics(image.shape[0], image.shape[1], float(time), float(size)), sigma=1)
    luma = caustics * 0.2126 + caustics * 0.7152 + caustics * 0.0722  # the reference's Rec. 709 dot
    return _refract(image.astype(np.float32) / np.float32(255), luma, float(lens_scale), float(lighting))


# ---- warps, blurs and lines (CIFAR-10-C-bar) ----

@njit(cache=True)
def _twirl_cell(image, top, left, height, width, radius, amount, angle, out):
    center_row, center_col = top + height / 2, left + width / 2
    pixel = np.empty(3)
    for row in range(top, top + height):
        for col in range(left, left + width):
            dy, dx = row - center_row, col - center_col
            dist = math.sqrt(dy * dy + dx * dx)
            src_row, src_col = float(row), float(col)
            if not (dist > radius or np.round(dist, 3) == 0.0):
                d = dist / radius
                t = math.sin(math.pi * 0.5 * d) ** (-amount)
                dy, dx = dy * t, dx * t
                a = angle * (1 - d) ** 2
                src_row = center_row + dy * math.cos(a) - dx * math.sin(a)
                src_col = center_col + dy * math.sin(a) + dx * math.cos(a)
            _bilinear(image, src_row, src_col, pixel)
            for c in range(3):
                out[row - top, col - left, c] = pixel[c]


def pinch_and_twirl(image: np.ndarray, angles: np.ndarray, amount: float) -> np.ndarray:
    """A grid of ``angles.shape`` cells (column blocks first, as the reference loops), each pinched
    by ``amount`` and twirled by its angle within its inscribed circle; each cell reads the image as
    the cells before it left it."""
    image = _rgb(image)
    angles = np.asarray(angles, float)
    n = angles.shape[0]
    out = image.astype(np.float32)
    cell_h, cell_w = image.shape[0] // n, image.shape[1] // n
    radius = min(cell_h, cell_w) / 2
    block = np.empty((cell_h, cell_w, 3))
    for i in range(n):
        for j in range(n):
            _twirl_cell(out, j * cell_h, i * cell_w, cell_h, cell_w, radius, float(amount), angles[i, j], block)
            out[j * cell_h : (j + 1) * cell_h, i * cell_w : (i + 1) * cell_w] = block
    return _truncate(out)


@njit(cache=True)
def _ripple(image, amplitudes, wavelengths, phases):
    height, width = image.shape[:2]
    out = np.empty((height, width, 3))
    pixel = np.empty(3)
    for row in range(height):
        for col in range(width):
            src_row = row + amplitudes[0] * math.sin(2 * math.pi * row / wavelengths[0] + phases[0])
            src_col = col + amplitudes[1] * math.sin(2 * math.pi * col / wavelengths[1] + phases[1])
            _bilinear(image, src_row, src_col, pixel)
            for c in range(3):
                out[row, col, c] = pixel[c]
    return out


def ripple(image: np.ndarray, amplitudes, wavelengths, phases) -> np.ndarray:
    """Each axis displaced by ``amplitude * sin(2 pi p / wavelength + phase)``, sampled bilinearly."""
    image = _rgb(image)
    args = (np.asarray(amplitudes, float), np.asarray(wavelengths, float), np.asarray(phases, float))
    return _truncate(_ripple(image, *args))


def circular_motion_blur(image: np.ndarray, amount: float) -> np.ndarray:
    """The mean of 21 rotations within ``+-amount`` degrees about the centre (cubic spline, zero
    outside), weighted ``exp(-2 a^2)`` for ``a`` in [-1, 1]: SciPy's ``rotate``, as the reference."""
    from scipy.ndimage import rotate

    image = _rgb(image).astype(np.float32) / 255
    out = np.zeros_like(image)
    total = 0.0
    for i in range(21):
        a = 2 * i / 20 - 1
        factor = np.exp(-2 * a**2)
        out += factor * rotate(image, a * amount, reshape=False)
        total += factor
    out /= total
    return _truncate(out * 255)


def transverse_chromatic_abberation(image: np.ndarray, scales) -> np.ndarray:
    """Each channel zoomed about the centre by its scale (SciPy's ``zoom``, cubic, no prefilter) and
    cropped back: colour fringes that grow toward the edges."""
    from scipy.ndimage import zoom

    image = _rgb(image)
    out = image.copy()
    for c, scale in enumerate(scales):
        zoomed = zoom(image[:, :, c], scale, prefilter=False)
        top, left = (zoomed.shape[0] - image.shape[0]) // 2, (zoomed.shape[1] - image.shape[1]) // 2
        out[:, :, c] = zoomed[top : top + image.shape[0], left : left + image.shape[1]]
    return out


def lines(image: np.ndarray, count: int, angle: float, angle_variation: float, seed: int) -> np.ndarray:
    """``count`` anti-aliased grey lines (scikit-image's ``line_aa``), each as long as the image's
    side, centred and tilted by ``RandomState(seed)`` around ``angle``; blended toward grey 128."""
    from skimage.draw import line_aa

    image = _rgb(image)
    height, width = image.shape[:2]
    side = max(height, width)
    state = np.random.RandomState(seed)
    out = image.copy()
    for _ in range(count):
        # the reference's "x" indexes rows and "y" columns
        x, y = side * state.uniform(), side * state.uniform()
        a = angle + 2 * np.pi * angle_variation * (state.uniform() - 0.5)
        s, c = np.sin(a) * side, np.cos(a) * side
        rows, cols, weights = line_aa(int(x - c), int(y - s), int(x + c), int(y + s))
        inside = (rows >= 0) & (cols >= 0) & (rows < height) & (cols < width)
        rows, cols, weights = rows[inside], cols[inside], weights[inside, None]
        out[rows, cols, :] = (1.0 - weights) * out[rows, cols, :].astype(np.float32) + weights * 128
    return out
