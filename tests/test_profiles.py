"""The cifar and tinyimagenet profiles as Hendrycks' make_cifar_c.py / make_tinyimagenet_c.py
make them (frost's direct crop, snow's central trim), and the imagenet profile unchanged."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
from skimage import data

import corruptgen
from corruptgen.assets import frost_texture_bgr
from corruptgen.corruptions import IMAGECORRUPTIONS, REGISTRY
from corruptgen.kernels import weather, zoom

SCALE = {"cifar": 0.2, "tinyimagenet": 0.3}
SIDE = {"cifar": 32, "tinyimagenet": 64}


def test_imagenet_profile_bytes_unchanged():
    """A digest of all 19 corruptions x 5 severities (changed on purpose in 0.2.0: counter-stream draws for noise, glass, fog and spatter, snow drawn only where its zoom reads, elastic draws in float32, brightness by table, defocus by row sums; and in 0.3.0: defocus's sums in another float order, under 1 % of its pixels one level apart, and elastic's uniforms from a counter-stream key; and in 0.4.0: defocus summed exactly over the levels, under 3 % of its pixels one level apart)."""
    image = cv2.resize(data.chelsea(), (52, 40), interpolation=cv2.INTER_AREA)
    digest = hashlib.sha256()
    for name in IMAGECORRUPTIONS:
        for severity in range(1, 6):
            digest.update(corruptgen.corrupt(image, name, severity, seed=0, profile="imagenet").tobytes())
    assert digest.hexdigest() == "8bed8f1451e9ffc81963945df5a4f73e348ef35c1a6d97e3ffcaa6577c7a521c"


@pytest.mark.parametrize("profile", ["cifar", "tinyimagenet"])
def test_frost_patch_is_a_direct_crop_of_the_shrunk_photograph(profile):
    side = SIDE[profile]
    image = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    spec = REGISTRY["frost"]
    for severity in range(1, 6):
        p = spec.params(severity, profile)
        for seed in range(4):
            draws = spec.sample(np.random.default_rng(seed), image.shape, p)
            shrunk = cv2.resize(frost_texture_bgr(draws["texture"]), (0, 0), fx=SCALE[profile], fy=SCALE[profile])
            top, left = draws["top"], draws["left"]
            patch = shrunk[top : top + side, left : left + side]
            expected = weather.frost(image, patch, p.image_weight, p.frost_weight)
            assert np.array_equal(corruptgen.corrupt(image, "frost", severity, seed=seed, profile=profile), expected)


@pytest.mark.parametrize("profile", ["cifar", "tinyimagenet"])
def test_frost_offsets_span_the_scripts_range(profile):
    """randint(0, frost.shape[0] - side) x randint(0, frost.shape[1] - side), per photograph."""
    side = SIDE[profile]
    spec, p = REGISTRY["frost"], REGISTRY["frost"].params(1, profile)
    rng = np.random.default_rng(0)
    seen: dict[int, list[tuple[int, int]]] = {}
    for _ in range(3000):
        draws = spec.sample(rng, (side, side, 3), p)
        seen.setdefault(draws["texture"], []).append((draws["top"], draws["left"]))
    assert sorted(seen) == [0, 1, 2, 3, 4]  # frost6 never, as in the scripts
    for index, offsets in seen.items():
        th, tw = cv2.resize(frost_texture_bgr(index), (0, 0), fx=SCALE[profile], fy=SCALE[profile]).shape[:2]
        tops, lefts = zip(*offsets)
        assert min(tops) == 0 and max(tops) == th - side - 1
        assert min(lefts) == 0 and max(lefts) == tw - side - 1


def test_frost_falls_back_to_a_cover_rescale_for_large_images():
    image = cv2.resize(data.coffee(), (400, 300), interpolation=cv2.INTER_AREA)  # larger than any shrunk photograph
    out = corruptgen.corrupt(image, "frost", 3, seed=1, profile="cifar")
    assert out.shape == image.shape and not np.array_equal(out, image)


def test_snow_layer_trimmed_centrally_before_the_blur():
    noise = np.random.default_rng(0).normal(0.25, 0.3, size=(32, 32)).astype(np.float32)[:, :, None]
    whole = zoom.clipped_zoom(noise, 2.25, trim="none")
    assert whole.shape == (34, 34, 1)  # cifar severity 4 at 32 px: two pixels larger
    np.testing.assert_array_equal(zoom.clipped_zoom(noise, 2.25, trim="centre"), whole[1:33, 1:33])
    np.testing.assert_array_equal(zoom.clipped_zoom(noise, 2.25, trim="start"), whole[:32, :32])
    spec = REGISTRY["snow"]
    assert spec.params(4, "cifar").trim == "centre" and spec.params(4, "imagenet").trim == "none"
    image = cv2.resize(data.astronaut(), (32, 32), interpolation=cv2.INTER_AREA)
    p = spec.params(4, "cifar")
    draws = spec.sample(np.random.default_rng(3), image.shape, p)
    kwargs = dict(zoom=p.zoom, threshold=p.threshold, blur_radius=p.blur_radius, blur_sigma=p.blur_sigma,
                  angle=draws["angle"], blend=p.blend)  # fmt: skip
    ours = corruptgen.corrupt(image, "snow", 4, seed=3, profile="cifar")
    assert np.array_equal(ours, weather.snow(image, draws["noise"], trim="centre", **kwargs))
    assert not np.array_equal(ours, weather.snow(image, draws["noise"], trim="none", **kwargs))
