"""Fidelity against imagecorruptions 1.1.2, the reference (issue #2, point 5).

Deterministic corruptions: mean |ours - reference| <= 0.1 gray level and 99th percentile <= 1
(issue #12's bar; it was 1 and 4 before).
Random ones: mean PSNR and SSIM against the clean image within 0.5 dB and 0.02 of the
reference's, or within 3 standard errors where the seed-to-seed spread is larger.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import reference_corrupt
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import corruptgen
from corruptgen.corruptions import IMAGECORRUPTIONS, REGISTRY

DETERMINISTIC = [name for name in IMAGECORRUPTIONS if not REGISTRY[name].random]
RANDOM = [name for name in IMAGECORRUPTIONS if REGISTRY[name].random]
SEEDS = (0, 1, 2)


def test_deterministic_split_matches_issue():
    assert sorted(DETERMINISTIC) == sorted(
        ["defocus_blur", "zoom_blur", "gaussian_blur", "brightness", "contrast", "saturate", "pixelate", "jpeg_compression"]
    )


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_pixels_match_reference(name, severity, photos_224, photo_nonsquare):
    diffs = []
    for image in [*photos_224[:2], photo_nonsquare]:
        ours = corruptgen.corrupt(image, name, severity)
        ref = reference_corrupt(image, name, severity, seed=0)
        assert ours.shape == ref.shape
        diffs.append(np.abs(ours.astype(np.int16) - ref.astype(np.int16)).ravel())
    diff = np.concatenate(diffs)
    assert diff.mean() <= 0.1, f"{name} s{severity}: mean |diff| {diff.mean():.3f}"
    assert np.percentile(diff, 99) <= 1, f"{name} s{severity}: p99 |diff| {np.percentile(diff, 99)}"


def _quality(clean: np.ndarray, corrupted: np.ndarray) -> tuple[float, float]:
    psnr = peak_signal_noise_ratio(clean, corrupted, data_range=255)
    ssim = structural_similarity(clean, corrupted, channel_axis=-1, data_range=255)
    return min(psnr, 100.0), ssim


def _close(ours: np.ndarray, ref: np.ndarray, tolerance: float) -> tuple[bool, str]:
    gap = abs(ours.mean() - ref.mean())
    stderr = np.sqrt(ours.var(ddof=1) / len(ours) + ref.var(ddof=1) / len(ref))
    return gap <= max(tolerance, 3 * stderr), f"{ours.mean():.3f} vs {ref.mean():.3f} (3 se {3 * stderr:.3f})"


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("name", RANDOM)
def test_random_distribution_matches_reference(name, severity, photos_224, photo_nonsquare):
    ours, ref = [], []
    for image in [*photos_224, photo_nonsquare]:
        for seed in SEEDS:
            ours.append(_quality(image, corruptgen.corrupt(image, name, severity, seed=seed)))
            ref.append(_quality(image, reference_corrupt(image, name, severity, seed=seed)))
    ours, ref = np.array(ours), np.array(ref)
    ok, text = _close(ours[:, 0], ref[:, 0], 0.5)
    assert ok, f"{name} s{severity} PSNR {text}"
    ok, text = _close(ours[:, 1], ref[:, 1], 0.02)
    assert ok, f"{name} s{severity} SSIM {text}"


def _reference_draws(name: str, severity: int, seed: int, shape) -> dict:
    """Replay the reference's global-``np.random`` calls for one corruption, in its order."""
    from corruptgen.assets import frost_texture_bgr
    from corruptgen.kernels import glass, weather

    p = REGISTRY[name].params(severity)
    np.random.seed(seed)
    if name == "glass_blur":
        rows, cols = glass.glass_offset_count(shape[0], shape[1], p.max_delta)
        return {"offsets": np.random.randint(-p.max_delta, p.max_delta, size=(p.iterations, rows, cols, 2))}
    if name == "motion_blur":
        return {"angle": np.random.uniform(-45, 45)}
    index = np.random.randint(5)  # frost
    th, tw = weather.frost_cover_size(frost_texture_bgr(index).shape[:2], shape[0], shape[1])
    return {"texture": index, "top": np.random.randint(0, th - shape[0]), "left": np.random.randint(0, tw - shape[1])}


@pytest.mark.parametrize("severity", [1, 3, 5])
@pytest.mark.parametrize("name", ["glass_blur", "motion_blur", "frost"])
def test_same_draws_same_pixels_as_reference(name, severity, photo_nonsquare):
    """Fed the random numbers the reference drew, the corruption reproduces its pixels: the
    distribution tests above then only measure sampling, not a different algorithm."""
    from corruptgen.api import to_uint8

    image = photo_nonsquare
    spec = REGISTRY[name]
    ref = reference_corrupt(image, name, severity, seed=3)
    work = image if spec.dtype == "uint8" else image.astype(np.float32) / 255
    draws = _reference_draws(name, severity, 3, image.shape)
    if name == "glass_blur":  # the reference's offsets straight into the kernel (ours come from a key)
        from corruptgen.kernels import glass

        p = spec.params(severity)
        ours = to_uint8(glass.glass_blur(work, p.sigma, p.max_delta, draws["offsets"]))
    else:
        ours = to_uint8(np.asarray(spec.apply(work, spec.params(severity), **draws)))
    diff = np.abs(ours.astype(np.int16) - ref)
    assert diff.max() <= 1 and diff.mean() < 0.01, (diff.max(), diff.mean())
