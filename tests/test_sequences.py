"""ImageNet-P / CIFAR-10-P sequences: each against a readable transcription of ``make_imagenet_p.py``'s
frame, the kernels they reuse, frame counts and seeds."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from fixtures import photo
from PIL import Image

from corruptgen.corruptions.sequences import (
    SEQUENCES,
    TEST_PERTURBATIONS,
    VALIDATION_PERTURBATIONS,
    drip,
    get_sequence,
    list_perturbations,
    perturb_rgb_or_gray,
    tilt_matrix,
    torchvision_affine_inverse,
)
from corruptgen.datasets.imagenet import resize_shorter
from corruptgen.kernels import filters, hsv, motion, noise, warp, weather
from corruptgen.kernels.counter import draw_key
from corruptgen.kernels.quantise import to_uint8

FRAMES = {  # make_imagenet_p.py / make_cifar_p.py: range(...) of each block
    "imagenet-p": {"translate": 41},
    "cifar-p": {"translate": 16, "motion_blur": 21},
}


@pytest.fixture(scope="module")
def resized():
    """A Resize(256) image, wider than tall, as ImageNet-P starts from."""
    return np.asarray(resize_shorter(photo(0, 300, 400)))


def crop224(image):
    return np.asarray(warp.centre_crop(image, 224, 224))


def run(image, name, profile="imagenet-p", seed=0, difficulty=1, crop=(224, 224)):
    return perturb_rgb_or_gray(image, name, difficulty, np.random.default_rng(seed), profile, crop)


def test_catalogue_splits_and_order():
    assert list(TEST_PERTURBATIONS) == ["gaussian_noise", "shot_noise", "motion_blur", "zoom_blur", "snow", "brightness",
                                        "translate", "rotate", "tilt", "scale"]  # fmt: skip
    assert list(VALIDATION_PERTURBATIONS) == ["speckle_noise", "gaussian_blur", "spatter", "shear"]
    assert list_perturbations("all") == [*TEST_PERTURBATIONS, *VALIDATION_PERTURBATIONS]
    assert [n for n, s in SEQUENCES.items() if s.noise] == ["gaussian_noise", "shot_noise", "speckle_noise"]
    with pytest.raises(ValueError, match="valid names"):
        get_sequence("blur")
    with pytest.raises(ValueError, match="only the noise sequences"):
        get_sequence("rotate").frames_for(2, "imagenet-p")


@pytest.mark.parametrize("profile", ["imagenet-p", "cifar-p"])
@pytest.mark.parametrize("name", list(SEQUENCES))
def test_frame_counts_shapes_and_seeds(resized, name, profile):
    if profile == "imagenet-p":
        image, crop = resized, (224, 224)
    else:
        image, crop = photo(1, 32, 32), None
    frames = run(image, name, profile, crop=crop)
    count = FRAMES[profile].get(name, 31)
    side = 224 if profile == "imagenet-p" else 32
    assert frames.shape == (count, side, side, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, run(image, name, profile, crop=crop))  # the same seed, the same frames
    assert len({f.tobytes() for f in frames}) > 1  # it moves
    if SEQUENCES[name].noise:
        assert not np.array_equal(frames, run(image, name, profile, seed=1, crop=crop))


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_grey_digits_stay_grey(name):
    digit = cv2.cvtColor(photo(2, 28, 28), cv2.COLOR_RGB2GRAY)[:, :, None]
    frames = run(digit, name, "cifar-p", crop=None)
    assert frames.shape[1:] == (28, 28, 1)


def test_noise_sequences_start_clean_and_redraw_every_frame(resized):
    clean = crop224(resized)
    for name, sigma in (("gaussian_noise", 0.03), ("shot_noise", 300), ("speckle_noise", 0.05)):
        frames = run(resized, name)
        assert np.array_equal(frames[0], clean)  # img0.png is the clean crop
        assert len({f.tobytes() for f in frames[1:]}) == 30
        rng = np.random.default_rng(0)
        keys = [draw_key(rng) for _ in range(30)]
        kernel = {"gaussian_noise": noise.gaussian_noise, "shot_noise": noise.shot_noise,
                  "speckle_noise": noise.speckle_noise}[name]  # fmt: skip
        assert np.array_equal(frames[7], kernel(clean, keys[6], sigma))
    stronger = [np.abs(run(resized, "gaussian_noise", difficulty=d)[1:].astype(int) - clean).mean() for d in (1, 2, 3)]
    assert stronger[0] < stronger[1] < stronger[2]  # sigma 0.03, 0.05, 0.08


def test_brightness_sweeps_the_hsv_value(resized):
    clean = crop224(resized)
    frames = run(resized, "brightness")
    assert np.array_equal(frames[15], clean)
    for i in (0, 9, 30):
        assert np.array_equal(frames[i], hsv.brightness(clean, (i - 15) * 0.02))
    assert frames[0].mean() < clean.mean() < frames[30].mean()


def test_motion_blur_turns_from_minus_120_to_0_degrees(resized):
    clean = crop224(resized)
    frames = run(resized, "motion_blur")
    unit = np.multiply(clean, np.float32(1 / 255), dtype=np.float32)
    for i in (0, 30):
        shifts, weights = motion.motion_taps(10, 3, (i - 30) * 4, 224, 224)
        assert np.array_equal(frames[i], motion.motion_blur(unit, shifts, weights, quantised=True))


def test_zoom_blur_averages_growing_zooms(resized):
    frames = run(resized, "zoom_blur")
    assert np.array_equal(frames[0], crop224(resized))
    sharpness = [cv2.Laplacian(f.astype(np.float32), cv2.CV_32F).var() for f in frames[::10]]
    assert sharpness == sorted(sharpness, reverse=True)  # ever blurrier, up to zoom 1.12


def test_snow_streaks_one_layer_at_4i_minus_150_degrees(resized):
    clean = crop224(resized)
    frames = run(resized, "snow")
    layer = SEQUENCES["snow"].sample(np.random.default_rng(0), (224, 224, 3), SEQUENCES["snow"].frames_for(1, "imagenet-p", 224))["layer"]
    for i in (0, 30):
        expected = weather.snow(clean, layer, zoom=3, threshold=0.5, blur_radius=14, blur_sigma=4, angle=4 * i - 150,
                                blend=0.85, trim="centre")  # fmt: skip
        assert np.array_equal(frames[i], expected)


def test_gaussian_blur_sigma_steps(resized):
    clean = np.multiply(crop224(resized), np.float32(1 / 255), dtype=np.float32)  # the catalogue's levels -> [0, 1]
    frames = run(resized, "gaussian_blur")
    assert np.array_equal(frames[20], to_uint8(filters.gaussian_filter(clean, 0.25 + 0.035 * 20, truncate=6.0)))


def test_drip_is_numpys_same_convolution_down_each_column():
    layer = np.random.default_rng(3).random((9, 5))
    for kernel in ((0.05, 0.1, 0.15, 0.7), (0.2, 0.8)):
        expected = np.apply_along_axis(lambda column: np.convolve(column, np.array(kernel), mode="same"), 0, layer)
        assert np.allclose(drip(layer, kernel), expected, rtol=0, atol=1e-12)


def test_spatter_drips_between_frames(resized):
    spec = SEQUENCES["spatter"]
    p = spec.frames_for(1, "imagenet-p", 224)
    draws = spec.sample(np.random.default_rng(0), (224, 224, 3), p)
    liquid = filters.gaussian_filter(draws["noise"][:, :, None], 3.7)[:, :, 0].astype(np.float64)
    liquid[liquid < 0.69] = 0
    frames = run(resized, "spatter")
    clean = crop224(resized)
    assert np.array_equal(frames[0], weather.water(clean, liquid.astype(np.float32), 0.6))
    dripped = drip(drip(liquid, p.drip), p.drip)
    assert np.array_equal(frames[2], weather.water(clean, dripped.astype(np.float32), 0.6))
    assert not np.array_equal(frames[0], frames[30])


def _torchvision03_pil_matrix(size, angle, translate, scale, shear):
    """torchvision 0.3's ``_get_inverse_affine_matrix`` as ``trn_F.affine`` hands it to PIL, line by line."""
    center = (size[0] * 0.5 + 0.5, size[1] * 0.5 + 0.5)
    angle, shear, scale = math.radians(angle), math.radians(shear), 1.0 / scale
    d = math.cos(angle + shear) * math.cos(angle) + math.sin(angle + shear) * math.sin(angle)
    matrix = [math.cos(angle + shear), math.sin(angle + shear), 0, -math.sin(angle), math.cos(angle), 0]
    matrix = [scale / d * m for m in matrix]
    matrix[2] += matrix[0] * (-center[0] - translate[0]) + matrix[1] * (-center[1] - translate[1])
    matrix[5] += matrix[3] * (-center[0] - translate[0]) + matrix[4] * (-center[1] - translate[1])
    matrix[2] += center[0]
    matrix[5] += center[1]
    return matrix


@pytest.mark.parametrize(("name", "i", "args"), [
    ("rotate", 3, {"angle": -12}), ("rotate", 30, {"angle": 15}), ("scale", 0, {"scale": 0.40}),
    ("scale", 30, {"scale": 1.15}), ("shear", 4, {"shear": -11}), ("translate", 33, {"translate": (13, 0)}),
])  # fmt: skip
def test_geometric_frames_match_pil_under_torchvision_03s_matrix(resized, name, i, args):
    """The reference's frame: PIL's transform of the Resize(256) image by torchvision 0.3's matrix, then
    CenterCrop(224). OpenCV resamples on a 1/32 px grid: within a level on average; translate (nearest,
    whole pixels) exactly."""
    full = dict(angle=0.0, translate=(0, 0), scale=1.0, shear=0.0) | args
    image = Image.fromarray(resized)
    resample = Image.NEAREST if name == "translate" else Image.BILINEAR
    expected = crop224(np.asarray(image.transform(image.size, Image.AFFINE, _torchvision03_pil_matrix(image.size, **full),
                                                  resample)))  # fmt: skip
    frame = run(resized, name)[i]
    diff = np.abs(frame.astype(int) - expected)
    if name == "translate":
        assert np.array_equal(frame, expected)
    else:
        assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 8


def test_affine_inverse_in_pixel_indices():
    inverse = torchvision_affine_inverse(10, 6, translate=(3, 0))
    assert np.allclose(inverse @ [7, 2, 1], [4, 2, 1])  # output column 7 shows source column 4
    identity = torchvision_affine_inverse(10, 6)
    assert np.allclose(identity, np.eye(3))


def test_tilt_is_the_references_homography(resized):
    height, width = resized.shape[:2]
    degrees = -7.0
    phi = theta = np.deg2rad(degrees)
    f = np.sqrt(width**2 + height**2)
    P1 = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1], [0, 0, 1]])  # noqa: N806
    RX = np.array([[1, 0, 0, 0], [0, np.cos(theta), -np.sin(theta), 0], [0, np.sin(theta), np.cos(theta), 0], [0, 0, 0, 1]])  # noqa: N806
    RY = np.array([[np.cos(phi), 0, -np.sin(phi), 0], [0, 1, 0, 0], [np.sin(phi), 0, np.cos(phi), 0], [0, 0, 0, 1]])  # noqa: N806
    T = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, f], [0, 0, 0, 1]])  # noqa: N806
    P2 = np.array([[f, 0, width / 2, 0], [0, f, height / 2, 0], [0, 0, 1, 0]])  # noqa: N806
    mat = P2 @ T @ RX @ RY @ P1
    assert np.allclose(tilt_matrix(width, height, degrees), mat)
    assert np.array_equal(run(resized, "tilt")[8], crop224(cv2.warpPerspective(resized, mat, (width, height))))


def test_cifar_p_parameters_scale_with_the_frame(resized):
    """At 28 px (Fashion-MNIST-P) cifar-p's pixel parameters shrink by 28/32; counts and angles do not."""
    p32 = SEQUENCES["translate"].frames_for(1, "cifar-p", 32)
    p28 = SEQUENCES["translate"].frames_for(1, "cifar-p", 28)
    assert (p32.count, p32.px) == (16, 1.0) and (p28.count, p28.px) == (16, 0.875)
    assert SEQUENCES["motion_blur"].frames_for(1, "cifar-p", 28).radius == pytest.approx(6 * 0.875)
    assert SEQUENCES["rotate"].frames_for(1, "cifar-p", 28).step == 1.0


def test_public_perturb(resized):
    import corruptgen

    frames = corruptgen.perturb(resized, "shot_noise", 2, seed=3, crop=(224, 224))
    assert np.array_equal(frames, run(resized, "shot_noise", seed=3, difficulty=2))
    assert np.array_equal(corruptgen.perturb(Image.fromarray(resized), "shot_noise", 2, seed=3, crop=(224, 224)), frames)
    grey = corruptgen.perturb(resized[:, :, 0], "rotate", profile="cifar-p", seed=0)
    assert grey.shape == (31, *resized.shape[:2])
    for args, kwargs, message in (
        (("rotate", 2), {}, "rotate has difficulty 1; got 2"),
        (("spin",), {}, "unknown perturbation 'spin'"),
        (("rotate",), {"profile": "cifar"}, "valid profiles are imagenet-p, cifar-p"),
        (("rotate",), {"crop": (300, 300)}, "does not fit"),
    ):
        with pytest.raises(ValueError, match=message):
            corruptgen.perturb(resized, *args, **kwargs)
