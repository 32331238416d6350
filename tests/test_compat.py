"""``corruptgen.compat.imagecorruptions`` as a drop-in for imagecorruptions 1.1.2, and the
mmdetection transform."""

from __future__ import annotations

import numpy as np
import pytest
from reference import load, reference_corrupt

import corruptgen
from corruptgen.compat import imagecorruptions as compat
from corruptgen.corruptions import REGISTRY

SUBSETS = ("common", "validation", "all", "noise", "blur", "weather", "digital")


@pytest.mark.parametrize("subset", SUBSETS)
def test_names_and_subsets_match_the_reference(subset):
    assert compat.get_corruption_names(subset) == load().get_corruption_names(subset)
    assert compat.get_corruption_names() == load().get_corruption_names()


def test_numbers_follow_the_reference_order(photos_224):
    image = photos_224[0]
    names = load().get_corruption_names("all")
    for number, name in enumerate(names):
        np.random.seed(number)
        by_number = compat.corrupt(image, 2, corruption_number=number)
        np.random.seed(number)
        assert np.array_equal(by_number, compat.corrupt(image, 2, corruption_name=name)), name


@pytest.mark.parametrize("shape", [(40, 48), (40, 48, 1), (40, 48, 3), (8, 9), (1, 1, 1)])
def test_shapes_and_dtypes(shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    for name in ("gaussian_noise", "fog", "contrast", "pixelate"):
        out = compat.corrupt(image, 3, name)
        assert out.shape == (*shape[:2], 3) and out.dtype == np.uint8  # grey comes back with 3 channels, as the reference
    if shape == (40, 48):
        ref = reference_corrupt(image, "contrast", 3, seed=0)
        assert ref.shape == (40, 48, 3) and np.abs(ref.astype(int) - compat.corrupt(image, 3, "contrast")).max() <= 1


def test_global_state_makes_it_reproducible_and_seed_bypasses_it(photos_224):
    image = photos_224[1]
    np.random.seed(0)
    a = compat.corrupt(image, severity=3, corruption_name="shot_noise")
    b = compat.corrupt(image, severity=3, corruption_name="shot_noise")
    np.random.seed(0)
    assert np.array_equal(compat.corrupt(image, severity=3, corruption_name="shot_noise"), a)
    assert not np.array_equal(a, b)  # the global state advanced
    state = np.random.get_state()[1].copy()
    seeded = compat.corrupt(image, 3, "shot_noise", seed=5)
    assert np.array_equal(np.random.get_state()[1], state)  # seed= leaves the global state alone
    assert np.array_equal(seeded, corruptgen.corrupt(image, "shot_noise", 3, seed=5))


def test_readme_example_and_loop_within_the_parity_tolerances(photos_224):
    """imagecorruptions' README loop, run unchanged but for the import: deterministic corruptions
    within the fidelity tests' pixel tolerance of the reference; random ones are corruptgen's own
    output for the seed drawn from the global state (whose distribution the fidelity tests check)."""
    image = photos_224[2]
    corrupted_image = compat.corrupt(image, corruption_name="gaussian_blur", severity=1)
    assert corrupted_image.shape == image.shape
    for corruption in compat.get_corruption_names("all"):
        for severity in range(5):
            np.random.seed(severity)
            corrupted = compat.corrupt(image, corruption_name=corruption, severity=severity + 1)
            if REGISTRY[corruption].random:
                np.random.seed(severity)
                seed = int(np.random.randint(0, 2**31 - 1))
                assert np.array_equal(corrupted, corruptgen.corrupt(image, corruption, severity + 1, seed=seed))
            else:
                diff = np.abs(corrupted.astype(np.int16) - reference_corrupt(image, corruption, severity + 1, seed=0))
                assert diff.mean() <= 1.0 and np.percentile(diff, 99) <= 4, (corruption, severity + 1)


def test_errors_keep_the_reference_types():
    image = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(ValueError, match="Either corruption_name or corruption_number must be passed"):
        compat.corrupt(image, 1)
    with pytest.raises(KeyError) as info:
        compat.corrupt(image, 1, "fogg")
    assert "unknown corruption_name 'fogg'; valid names are gaussian_noise" in str(info.value)
    with pytest.raises(IndexError, match="corruption_number must be an int from 0 to 18"):
        compat.corrupt(image, 1, corruption_number=19)
    with pytest.raises(AttributeError, match="severity must be an integer in"):
        compat.corrupt(image, 6, "fog")
    with pytest.raises(AttributeError, match="dtype uint8"):
        compat.corrupt(image.astype(np.float32), 1, "fog")
    with pytest.raises(AttributeError, match="H x W x 3"):
        compat.corrupt(np.zeros((40, 40, 4), np.uint8), 1, "fog")
    with pytest.raises(AttributeError, match="numpy.ndarray"):
        compat.corrupt([[0]], 1, "fog")
    with pytest.raises(ValueError, match="subset must be one of"):
        compat.get_corruption_names("extra")
    for exc in (compat.InvalidImageError, compat.UnknownCorruptionError, compat.CorruptionNumberError):
        assert issubclass(exc, ValueError)


def test_mmdet_transform_registered_and_applied():
    pytest.importorskip("mmdet.registry", reason="mmdetection is not installed")
    from mmcv.transforms import BaseTransform, Compose
    from mmdet.registry import TRANSFORMS

    import corruptgen.augment.mmdet  # noqa: F401 (registers the transform)

    cls = TRANSFORMS.module_dict["CorruptgenCorrupt"]  # module_dict: no lazy import of mmdet's compiled ops
    transform = cls(corruption="fog", severity=3)
    assert isinstance(transform, BaseTransform)
    boxes = np.array([[1.0, 2.0, 20.0, 30.0]])
    image = np.full((40, 50, 3), 90, np.uint8)
    np.random.seed(0)
    results = Compose([transform])({"img": image.copy(), "gt_bboxes": boxes})
    assert results["gt_bboxes"] is boxes and results["img"].shape == (40, 50, 3)
    np.random.seed(0)
    assert np.array_equal(results["img"], compat.corrupt(image, 3, "fog"))
    assert cls(corruption="fog", severity=3, proba=0.0)({"img": image})["img"] is image
    with pytest.raises(KeyError):
        cls(corruption="fogg")
