"""Each kernel against a slow, readable NumPy/SciPy/scikit-image reference."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage import color
from skimage import filters as skfilters

from corruptgen.kernels import codec, counter, filters, glass, hsv, motion, noise, plasma, quantise, tone, zoom


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


@pytest.mark.parametrize(("sigma", "max_delta", "iterations", "visit"), [(0.7, 1, 2, None), (1.5, 4, 2, None), (1.0, 2, 1, 0.5)])
def test_glass_blur_from_key_is_glass_blur_with_the_keys_offsets(sigma, max_delta, iterations, visit, photos_224):
    image = (photos_224[1][:60, :45].astype(np.float32) / 255).copy()
    offsets = glass.offsets_from_key(99, iterations, 60, 45, max_delta, visit)
    explicit = glass.glass_blur(image, sigma, max_delta, offsets, swap=visit is not None)
    np.testing.assert_array_equal(glass.glass_blur_from_key(image, sigma, max_delta, 99, iterations, visit), explicit)


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


@pytest.mark.parametrize("radius, sigma, angle", [(3, 1.0, 10.0), (10, 3.0, -45.0), (20, 15.0, 120.0)])
def test_motion_blur_quantised_is_to_uint8_of_the_float_result(image, radius, sigma, angle):
    # 7, 21 and 41 taps: below, at and past the eight-tap passes; the uint8 path keeps no float image
    shifts, weights = motion.motion_taps(radius, sigma, angle, *image.shape[:2])
    levels = motion.motion_blur(image * 1.3, shifts, weights, quantised=True)  # some sums above 1: clipped
    assert levels.dtype == np.uint8
    np.testing.assert_array_equal(levels, quantise.to_uint8(motion.motion_blur(image * 1.3, shifts, weights)))


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
        ours = zoom.clipped_zoom(image, z, trim="none")
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, atol=1e-5)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("zooms", [np.arange(1, 1.11, 0.01), np.arange(1, 1.31, 0.03), [1.7, 2.5]])
def test_zoom_blur_is_the_mean_of_clipped_zooms_bit_for_bit(photos_224, channels, zooms):
    # the fused kernel reads each output row as runs of contiguous crop columns; summing the
    # whole clipped zooms in the same float32 order must give the same bits
    image = np.dstack([photos_224[0][:45, :61].astype(np.float32) / 255] * 2)[:, :, :channels]
    acc = image.copy()
    for z in zooms:
        acc += zoom.clipped_zoom(image, float(z), trim="start")
    acc *= np.float32(1.0 / (len(zooms) + 1))
    np.testing.assert_array_equal(zoom.zoom_blur(image, zooms), acc)


def _truncate(values):
    return (np.clip(values, 0, 1) * 255).astype(np.uint8)


def test_hsv_closed_forms_match_scikit_image():
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 256, size=(30, 30, 3), dtype=np.uint8)
    levels[0, :5] = [[0, 0, 0], [255, 255, 255], [128, 128, 128], [255, 0, 0], [50, 50, 180]]
    base = color.rgb2hsv(levels / 255.0)
    bright = base.copy()
    bright[:, :, 2] = np.clip(bright[:, :, 2] + 0.3, 0, 1)
    diff = np.abs(hsv.brightness(levels, 0.3).astype(int) - _truncate(color.hsv2rgb(bright)))
    assert diff.max() <= 1 and diff.mean() < 0.01  # float rounding at exact multiples of 1/255
    np.testing.assert_array_equal(hsv.brightness(levels[:1, :5], 0.3), _truncate(color.hsv2rgb(bright[:1, :5])))
    for scale, offset in ((0.1, 0.0), (5, 0.1), (20, 0.2)):
        sat = base.copy()
        sat[:, :, 1] = np.clip(sat[:, :, 1] * scale + offset, 0, 1)
        np.testing.assert_array_equal(hsv.saturate(levels, scale, offset), _truncate(color.hsv2rgb(sat)))


def test_contrast_tables_match_float_formula():
    levels = np.random.default_rng(4).integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    x = levels / 255.0
    means = x.mean(axis=(0, 1), keepdims=True)
    np.testing.assert_array_equal(tone.contrast(levels, 0.3), _truncate((x - means) * 0.3 + means))
    np.testing.assert_array_equal(tone.add_value(levels[:, :, :1], 0.2), _truncate(x[:, :, :1] + 0.2))


def _splitmix64(key: int, count: int) -> list[int]:
    """SplitMix64 as published (Steele, Lea and Flood 2014), in plain Python."""
    mask, state, out = 2**64 - 1, key, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def test_counter_stream_is_splitmix64_halves():
    key = 0xDEADBEEF12345678
    words = _splitmix64(key, 6)
    expected = [half for w in words for half in (w & 0xFFFFFFFF, w >> 32)]
    assert counter.uint32_stream(key, 12).tolist() == expected
    assert counter.uint32_stream(key, 11).tolist() == expected[:11]
    assert counter.draw_key(np.random.default_rng(0)) == counter.draw_key(np.random.default_rng(0))


def _slow_inverse_cdf(levels, key, table, offsets=False):
    """Value i takes the output of the first table entry above stream value i (row 0 for offsets, else its level)."""
    thresholds = table.thresholds.astype(np.int64)
    u = counter.uint32_stream(key, levels.size).astype(np.int64)
    flat = levels.reshape(-1).astype(np.int64)
    rows = np.zeros_like(flat) if offsets else flat
    picked = np.array([np.searchsorted(thresholds[r], v, side="right") for r, v in zip(rows, u)])
    picked = table.outputs[np.minimum(picked, thresholds.shape[1] - 1)]  # the column's output
    out = np.clip(flat + picked - 256, 0, 255) if offsets else picked
    return out.astype(np.uint8).reshape(levels.shape)


@pytest.mark.parametrize("table", [noise.gaussian_table(0.08), noise.poisson_table(12.0), noise.speckle_table(0.6)],
                         ids=["gaussian", "shot", "speckle"])
def test_noise_table_bins_pick_what_a_search_picks(table):
    # a bin's direct output must be what every uniform in it picks: its smallest and largest
    bits = int(table.guide.shape[1]).bit_length() - 1
    starts = np.arange(1 << bits, dtype=np.int64) << (32 - bits)
    ends = starts + (1 << (32 - bits)) - 1
    last = table.thresholds.shape[1] - 1
    for row, thresholds in enumerate(table.thresholds.astype(np.int64)):
        first = np.minimum(np.searchsorted(thresholds, starts, side="right"), last)
        final = np.minimum(np.searchsorted(thresholds, ends, side="right"), last)
        np.testing.assert_array_equal(table.guide[row], first)
        if table.direct.shape[1] == 1:  # speckle: no direct outputs, every draw searches
            assert table.direct[row, 0] == -1
            continue
        resolved = table.direct[row] >= 0
        np.testing.assert_array_equal(resolved, first == final)
        np.testing.assert_array_equal(table.direct[row][resolved], table.outputs[first[resolved]])


def test_noise_kernels_read_the_stream_in_order():
    # 3,087 values: a few dozen land in bins that two outputs share, where the kernel searches
    levels = np.random.default_rng(5).integers(0, 256, size=(49, 21, 3), dtype=np.uint8)
    key = 1234567
    np.testing.assert_array_equal(
        noise.gaussian_noise(levels, key, 0.2), _slow_inverse_cdf(levels, key, noise.gaussian_table(0.2), True)
    )
    np.testing.assert_array_equal(noise.speckle_noise(levels, key, 0.35), _slow_inverse_cdf(levels, key, noise.speckle_table(0.35)))
    np.testing.assert_array_equal(noise.shot_noise(levels, key, 12), _slow_inverse_cdf(levels, key, noise.poisson_table(12.0)))
    assert not np.array_equal(noise.gaussian_noise(levels, key, 0.2), noise.gaussian_noise(levels, key + 1, 0.2))


def _reference_noise(kind, x, param, rng):
    """What the reference computes before ``np.uint8``: float arithmetic on NumPy's draws."""
    if kind == "gaussian":
        return x + rng.normal(size=x.shape, scale=param)
    if kind == "speckle":
        return x + x * rng.normal(size=x.shape, scale=param)
    return rng.poisson(x * param) / param


@pytest.mark.parametrize(
    ("kind", "param"), [("gaussian", 0.08), ("gaussian", 0.38), ("speckle", 0.15), ("speckle", 0.6), ("shot", 3), ("shot", 60), ("shot", 500)]
)
def test_noise_output_levels_have_the_reference_distribution(kind, param):
    n = 60000
    kernel = {"gaussian": noise.gaussian_noise, "speckle": noise.speckle_noise, "shot": noise.shot_noise}[kind]
    for level in (0, 17, 128, 200, 255):
        ours = kernel(np.full((n, 1, 1), level, np.uint8), 99 + level, param).ravel()
        ref = _truncate(_reference_noise(kind, np.full(n, level / 255.0), param, np.random.default_rng(level)))
        p_ours = np.bincount(ours, minlength=256) / n
        p_ref = np.bincount(ref, minlength=256) / n
        # every output level's frequency within 5 standard errors (plus one count) of the reference's
        se = np.sqrt(np.maximum(p_ref, 1 / n) * (1 - p_ref) / n * 2)
        assert (np.abs(p_ours - p_ref) <= 5 * se + 1 / n).all(), (kind, param, level)


def test_salt_and_pepper_rates():
    levels = np.full((300, 300, 3), 128, np.uint8)
    out = noise.salt_and_pepper(levels, 7, 0.2)
    assert abs((out == 255).mean() - 0.1) < 0.005 and abs((out == 0).mean() - 0.1) < 0.005
    assert ((out == 128) | (out == 0) | (out == 255)).all()
    u = counter.uint32_stream(7, levels.size).reshape(levels.shape) / 2.0**32
    np.testing.assert_array_equal(out == 255, u < 0.1)


def test_noise_kernels_reject_a_bad_key():
    with pytest.raises(ValueError, match=r"key must be an integer in \[0, 2\*\*64\); got -1"):
        noise.gaussian_noise(np.zeros((2, 2, 1), np.uint8), -1, 0.1)


def test_unit_floats_are_the_streams_top_24_bits():
    out = counter.fill_unit_floats(11, np.empty((300, 200, 2), np.float32))
    expected = (counter.uint32_stream(11, out.size) >> 8).astype(np.float64) / 2**24
    np.testing.assert_array_equal(out.ravel(), expected.astype(np.float32))
    assert 0.0 <= out.min() and out.max() < 1.0 and abs(out.mean() - 0.5) < 0.005
    with pytest.raises(ValueError, match="C-contiguous float32"):
        counter.fill_unit_floats(11, np.empty(4, np.float64))


def test_to_unit_is_numpys_division_bit_for_bit():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    out = quantise.to_unit(levels, np.empty(levels.shape, np.float32))
    np.testing.assert_array_equal(out, np.multiply(levels, np.float32(1 / 255), dtype=np.float32))
    assert out.dtype == np.float32 and out[-1, -1, 0] == 1.0


@pytest.mark.parametrize(("radius", "alias_blur"), [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5), (0.3, 0.4), (1.5, 0.1), (2.5, 0.01), (8.5, 0.5), (12, 1.0), (20, 0.5)])
@pytest.mark.parametrize("shape", [(40, 56, 3), (9, 5, 1), (1, 1, 3), (30, 7, 5)])
def test_defocus_blur_matches_filter2d_with_the_reference_disk(radius, alias_blur, shape, photos_224):
    photo = np.concatenate([photos_224[0], photos_224[1]], axis=2)  # up to six real channels
    levels = np.ascontiguousarray(photo[: shape[0], : shape[1], : shape[2]])
    kernel = filters.disk_kernel(radius, alias_blur)
    ref = filters.apply_per_plane(lambda a: cv2.filter2D(a, -1, kernel), levels / 255.0)  # float64, as the reference
    ours = filters.defocus_blur(levels, radius, alias_blur)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=2e-4, rtol=0)
    np.testing.assert_array_equal(filters.defocus_blur(levels, radius, alias_blur, quantised=True), quantise.to_uint8(ours))


@pytest.mark.parametrize(("radius", "alias_blur"), [(3, 0.1), (8, 0.5), (10, 0.5), (12, 1.0), (30, 0.5)])
def test_defocus_blur_of_a_point_is_the_reference_kernel(radius, alias_blur):
    """The impulse response is the kernel itself, within the plan's budget of 2e-4 in all."""
    kernel = filters.disk_kernel(radius, alias_blur).astype(np.float64)
    side = kernel.shape[0] + 8
    point = np.zeros((side, side, 1), np.uint8)
    point[side // 2, side // 2] = 255
    response = filters.defocus_blur(point, radius, alias_blur)[:, :, 0].astype(np.float64)
    k = kernel.shape[0]
    start = side // 2 - k // 2
    window = response[start : start + k, start : start + k]
    assert np.abs(window - kernel[::-1, ::-1]).sum() + np.abs(response).sum() - np.abs(window).sum() <= 2e-4


@pytest.mark.parametrize("radius", [8, 10, 30])
def test_defocus_blur_sums_beyond_16_bits_stay_exact(radius):
    """A white image: the disk's sum of levels (317 x 255 at radius 10) overflows 16 bits unless
    the plan splits it, and L's and T's signed sums must not wrap either (a wrap is 65536 levels:
    0.8 of the range at radius 10; the plan's budget is 2e-4)."""
    white = np.full((70, 90, 3), 255, np.uint8)
    ours = filters.defocus_blur(white, radius, 0.5)
    np.testing.assert_allclose(ours, filters.disk_kernel(radius, 0.5).astype(np.float64).sum(), atol=2e-4, rtol=0)


def test_defocus_blur_takes_uint8_levels():
    with pytest.raises(ValueError, match="levels must have dtype uint8; got float32"):
        filters.defocus_blur(np.zeros((8, 8, 3), np.float32), 3, 0.1)


def test_defocus_blur_gives_the_same_bytes_on_one_thread_and_two(photos_224):
    levels = np.ascontiguousarray(photos_224[0][:150, :97])
    threads = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = [filters.defocus_blur(levels, r, 0.5, quantised=q) for r in (3, 10) for q in (False, True)]
        cv2.setNumThreads(2)
        two = [filters.defocus_blur(levels, r, 0.5, quantised=q) for r in (3, 10) for q in (False, True)]
    finally:
        cv2.setNumThreads(threads)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def _slow_plasma(mapsize, wibbledecay, draws):
    """imagecorruptions' NumPy diamond-square, reading its uniforms from ``draws``."""
    heights = np.zeros((mapsize, mapsize))
    step, wibble, used = mapsize, 100.0, 0

    def take(shape):
        nonlocal used
        block = draws[used : used + shape[0] * shape[1]].reshape(shape)
        used += block.size
        return wibble * wibble * block

    while step >= 2:
        half = step // 2
        corners = heights[0::step, 0::step]
        square = corners + np.roll(corners, -1, axis=0)
        square += np.roll(square, -1, axis=1)
        heights[half::step, half::step] = square / 4 + take(square.shape)
        centres, corners = heights[half::step, half::step], heights[0::step, 0::step]
        left = centres + np.roll(centres, 1, axis=0) + corners + np.roll(corners, -1, axis=1)
        heights[0::step, half::step] = left / 4 + take(left.shape)
        top = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=0)
        heights[half::step, 0::step] = top / 4 + take(top.shape)
        step //= 2
        wibble /= wibbledecay
    heights -= heights.min()
    return heights / heights.max()


def test_plasma_fractal_matches_numpy_diamond_square():
    draws = counter.uniforms(11, plasma.plasma_draw_count(64), -1, 1)  # what the kernel draws from key 11
    heights = plasma.plasma_fractal(64, 1.7, 11)
    assert heights.shape == (64, 64) and heights.min() == 0 and heights.max() == 1
    np.testing.assert_allclose(heights, _slow_plasma(64, 1.7, draws), atol=1e-12)
    assert np.array_equal(plasma.plasma_fractal(64, 1.7, 11, out=np.empty((64, 64))), heights)
    with pytest.raises(ValueError, match="power of two"):
        plasma.plasma_draw_count(48)
    with pytest.raises(ValueError, match="out must be a float64 64 x 64 array"):
        plasma.plasma_fractal(64, 1.7, 11, out=np.empty((32, 32)))


@pytest.mark.parametrize("mapsize", [1, 2, 64, 256])
def test_fog_from_unscaled_heights_is_fog_from_the_scaled_map(mapsize, photos_224):
    levels = photos_224[2][:mapsize, : max(1, mapsize // 2)].copy()
    scaled = plasma.plasma_fractal(mapsize, 1.5, 5)
    heights = np.empty((mapsize, mapsize))
    low, peak = plasma.plasma_heights(mapsize, 1.5, 5, heights)
    np.testing.assert_array_equal((heights - low) / (peak if peak > 0 else 1.0), scaled)
    np.testing.assert_array_equal(plasma.fog(levels, heights, 2.5, low=low, peak=peak), plasma.fog(levels, scaled, 2.5))


def _pillow_pixelate(pixels, factor):
    """imagecorruptions' pixelate: Pillow's BOX downscale and NEAREST upscale."""
    from PIL import Image

    img = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    w, h = img.size
    small = img.resize((max(1, int(w * factor)), max(1, int(h * factor))), Image.BOX)
    return np.array(small.resize((w, h), Image.NEAREST)).reshape(pixels.shape)


@pytest.mark.parametrize("shape", [(224, 224, 3), (480, 640, 3), (300, 451, 3), (451, 300, 1), (17, 123, 3), (97, 13, 3),
                                   (61, 30, 1), (1, 1, 3), (3, 5, 1), (32, 32, 3)])  # fmt: skip
def test_pixelate_is_bit_identical_to_pillow(shape):
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    for factor in (0.6, 0.5, 0.4, 0.3, 0.25, 0.95, 0.85, 0.75, 0.65):
        np.testing.assert_array_equal(codec.pixelate(pixels, factor), _pillow_pixelate(pixels, factor), err_msg=str(factor))


def test_scratch_arrays_are_per_thread_and_large_ones_are_not_kept():
    import threading

    from corruptgen.kernels._scratch import KEEP_LIMIT, scratch

    mine = scratch("test.a", (10, 10))
    assert np.shares_memory(scratch("test.a", (5, 5)), mine)  # reused, growing only
    other = []
    thread = threading.Thread(target=lambda: other.append(scratch("test.a", (10, 10))))
    thread.start()
    thread.join()
    assert not np.shares_memory(other[0], mine)
    side = int((KEEP_LIMIT // 4) ** 0.5) + 1
    assert not np.shares_memory(scratch("test.big", (side, side)), scratch("test.big", (side, side)))


def test_counter_normals_are_standard_normal():
    from scipy import stats

    draws = counter.normals(5, (1000, 1000)).astype(np.float64).ravel()
    assert abs(draws.mean()) < 0.005 and abs(draws.std() - 1) < 0.005
    assert stats.kstest(draws[:200000], "norm").pvalue > 1e-3
    for edge in (1.0, 3.44, 4.0):  # inside, at and beyond the ziggurat's base layer
        rate, expected = (np.abs(draws) > edge).mean(), 2 * stats.norm.sf(edge)
        assert abs(rate - expected) <= 5 * np.sqrt(expected / draws.size) + 1e-6, edge
    np.testing.assert_array_equal(counter.normals(5, (7, 3)), counter.normals(5, (21,)).reshape(7, 3))
