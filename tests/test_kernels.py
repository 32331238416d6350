"""Each kernel against a slow, readable NumPy/SciPy/scikit-image reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from skimage import color, filters as skfilters

from corruptgen.kernels import filters, glass, hsv, motion, noise, plasma, zoom


@pytest.fixture
def image(photos_224):
    return photos_224[1][:40, :56].astype(np.float32) / 255


def _slow_glass(pixels, offsets, d, swap):
    x = pixels.copy()
    for it in range(offsets.shape[0]):
        for i, h in enumerate(range(x.shape[0] - d, d, -1)):
            for j, w in enumerate(range(x.shape[1] - d, d, -1)):
                dx, dy = offsets[it, i, j]
                hp, wp = h + dy, w + dx
                if swap:
                    x[h, w], x[hp, wp] = x[hp, wp].copy(), x[h, w].copy()
                else:  # the reference's tuple assignment of two views on an RGB array
                    x[h, w], x[hp, wp] = x[hp, wp], x[h, w]
    return x


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("d", [1, 3])
def test_glass_shuffle_matches_python_loop(swap, d):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(20, 17, 3), dtype=np.uint8)
    rows, cols = glass.glass_offset_count(20, 17, d)
    offsets = rng.integers(-d, d, size=(2, rows, cols, 2))
    np.testing.assert_array_equal(glass.glass_shuffle(pixels, offsets, d, swap=swap), _slow_glass(pixels, offsets, d, swap))


def test_glass_shuffle_rejects_bad_offsets():
    with pytest.raises(ValueError, match="offsets must have shape"):
        glass.glass_shuffle(np.zeros((10, 10, 3), np.uint8), np.zeros((1, 3, 3, 2), np.int8), 1)
    with pytest.raises(ValueError, match=r"offsets must lie in \[-1, 1\)"):
        glass.glass_shuffle(np.zeros((10, 10, 3), np.uint8), np.ones((1, 8, 8, 2), np.int8), 1)


def _slow_motion(x, radius, sigma, angle):
    """imagecorruptions' _motion_blur, with its np.roll-based shift."""
    width = 2 * radius + 1
    k = np.exp(-(np.arange(width) ** 2) / (2 * sigma**2))
    k /= k.sum()
    point = (width * np.sin(np.deg2rad(angle)), width * np.cos(np.deg2rad(angle)))
    hypot = math.hypot(*point)
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(width):
        dy = -math.ceil(((i * point[0]) / hypot) - 0.5)
        dx = -math.ceil(((i * point[1]) / hypot) - 0.5)
        if abs(dy) >= x.shape[0] or abs(dx) >= x.shape[1]:
            break
        shifted = x
        if dx < 0:
            shifted = np.roll(shifted, x.shape[1] + dx, axis=1)
            shifted[:, dx:] = shifted[:, dx - 1 : dx]
        elif dx > 0:
            shifted = np.roll(shifted, dx, axis=1)
            shifted[:, :dx] = shifted[:, dx : dx + 1]
        if dy < 0:
            shifted = np.roll(shifted, x.shape[0] + dy, axis=0)
            shifted[dy:, :] = shifted[dy - 1 : dy, :]
        elif dy > 0:
            shifted = np.roll(shifted, dy, axis=0)
            shifted[:dy, :] = shifted[dy : dy + 1, :]
        out += k[i] * shifted
    return out


@pytest.mark.parametrize("angle", [-45.0, -10.3, 0.0, 33.3, 90.0, -120.0])
def test_motion_blur_matches_shift_and_add(image, angle):
    shifts, weights = motion.motion_taps(7, 3.0, angle, *image.shape[:2])
    ours = motion.motion_blur(image, shifts, weights)
    np.testing.assert_allclose(ours, _slow_motion(image.astype(np.float64), 7, 3.0, angle), atol=1e-5)


def test_motion_taps_stop_at_image_border():
    shifts, _ = motion.motion_taps(20, 15, 0.0, 5, 5)
    assert len(shifts) == 5 and np.abs(shifts).max() < 5


def test_gaussian_filter_matches_scikit_image(image):
    for sigma in (0.7, 2.0, (1.5, 3.0)):
        ref = skfilters.gaussian(image.astype(np.float64), sigma=sigma, channel_axis=-1)
        np.testing.assert_allclose(filters.gaussian_filter(image, sigma), ref, atol=1e-5)
    ref = ndimage.gaussian_filter(image[:, :, 0].astype(np.float64), (2.0, 1.0), mode="reflect", truncate=3)
    np.testing.assert_allclose(filters.gaussian_filter(image[:, :, :1], (2.0, 1.0), truncate=3, mode="reflect")[:, :, 0], ref, atol=1e-5)  # noqa: E501


def test_clipped_zoom_matches_scipy_zoom(image):
    for z in (1.01, 1.13, 1.3, 3.0):
        h, w = image.shape[:2]
        ch, cw = math.ceil(h / z), math.ceil(w / z)
        top, left = (h - ch) // 2, (w - cw) // 2
        ref = ndimage.zoom(image[top : top + ch, left : left + cw].astype(np.float64), (z, z, 1), order=1)
        ours = zoom.clipped_zoom(image, z, trim=False)
        assert ours.shape == ref.shape
        # OpenCV quantises bilinear weights to 1/32 pixel
        assert np.abs(ours - ref).max() < 0.02


def test_hsv_closed_forms_match_scikit_image():
    rng = np.random.default_rng(3)
    pixels = rng.random((30, 30, 3), dtype=np.float32)
    pixels[0, :5] = [[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0], [0.2, 0.2, 0.7]]
    base = color.rgb2hsv(pixels.astype(np.float64))
    bright = base.copy()
    bright[:, :, 2] = np.clip(bright[:, :, 2] + 0.3, 0, 1)
    np.testing.assert_allclose(hsv.brightness(pixels, 0.3), color.hsv2rgb(bright), atol=1e-5)
    for scale, offset in ((0.1, 0.0), (5, 0.1), (20, 0.2)):
        sat = base.copy()
        sat[:, :, 1] = np.clip(sat[:, :, 1] * scale + offset, 0, 1)
        np.testing.assert_allclose(hsv.saturate(pixels, scale, offset), color.hsv2rgb(sat), atol=1e-5)


@pytest.mark.parametrize("scale", [3, 60, 500])
def test_shot_noise_is_poisson(scale):
    level = 200
    levels = np.full((200, 200, 1), level, np.uint8)
    uniforms = np.random.default_rng(0).random(levels.shape)
    counts = noise.shot_noise(levels, uniforms, scale).astype(np.float64) * scale
    lam = level / 255 * scale
    counts = counts[counts < scale - 0.5]  # the kernel clips at 1 (= scale photons)
    expected = np.random.default_rng(1).poisson(lam, size=40000)
    expected = expected[expected < scale - 0.5]
    assert abs(counts.mean() - expected.mean()) < 4 * np.sqrt(lam / len(counts) * 2)
    assert np.allclose(counts, np.round(counts))


def test_salt_and_pepper_rates():
    image = np.full((300, 300, 3), 0.5, np.float32)
    out = noise.salt_and_pepper(image, np.random.default_rng(0).random(image.shape, dtype=np.float32), 0.2)
    assert abs((out == 1).mean() - 0.1) < 0.005 and abs((out == 0).mean() - 0.1) < 0.005
    assert ((out == 0.5) | (out == 0) | (out == 1)).all()


def test_plasma_fractal_range_and_shape():
    shapes = plasma.plasma_draw_shapes(64)
    rng = np.random.default_rng(0)
    draws = [rng.uniform(-1, 1, size=s) for s in shapes]
    heights = plasma.plasma_fractal(64, 2.0, draws)
    assert heights.shape == (64, 64) and heights.min() == 0 and heights.max() == 1
    with pytest.raises(ValueError, match="power of two"):
        plasma.plasma_draw_shapes(48)
