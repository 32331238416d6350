"""ImageNet-C-bar and CIFAR-10-C-bar: the 15 held-out corruptions against outputs of
facebookresearch/augmentation-corruption's own code (tests/data), their profiles and magnitudes,
one layout per image, any image, and their builds (the C-bar folder layout, CIFAR-10-C-bar's arrays)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures import cli, make_cifar, make_imagenet

import corruptgen
from corruptgen.corruptions import CIFAR_CBAR, IMAGENET_CBAR, REGISTRY, get_corruption, list_corruptions
from corruptgen.datasets import make_adapter
from corruptgen.kernels import cbar
from corruptgen.pipeline.recipe import corrupt_sample, output_seed

REFERENCE = np.load(Path(__file__).parent / "data" / "cbar_reference.npz")
"""augmentation-corruption's ``transform`` fed our draws (recorded beside each output), on a 40 px
(imagenet-cbar) and a 32 px (cifar-cbar) photograph at severities 1, 3 and 5: written once by
``scripts/fidelity_cbar.py --fixture``."""
CASES = sorted({key.rsplit(".", 1)[0] for key in REFERENCE.files if key.endswith(".draws")})
ALL_CBAR = list(dict.fromkeys(IMAGENET_CBAR + CIFAR_CBAR))


def profiles_of(name: str) -> list[str]:
    return [p for p in ("imagenet-cbar", "cifar-cbar") if p in REGISTRY[name].tables]


def test_the_fixture_covers_every_corruption_and_profile():
    assert {tuple(c.split(".")[:2]) for c in CASES} == {(n, p) for n in ALL_CBAR for p in profiles_of(n)}


@pytest.mark.parametrize("case", CASES)
def test_fed_the_same_draws_the_kernels_give_the_reference_pixels(case):
    name, profile, severity = case.split(".")
    spec, severity = get_corruption(name), int(severity)
    image = REFERENCE[f"{profile}.image"]
    p = spec.params(severity, profile)
    draws = spec.sample(np.random.default_rng(severity), image.shape, p)
    recorded = json.loads(str(REFERENCE[f"{case}.draws"]))
    assert json.loads(json.dumps(draws)) == recorded, "our draws changed: rerun scripts/fidelity_cbar.py --fixture"
    diff = np.abs(spec.apply(image, p, **draws).astype(int) - REFERENCE[case].astype(int))
    # identical on the machine that wrote the fixture; elsewhere a vectorised sin or a pocketfft build may
    # move a value across a truncation: a level or two on a few pixels
    assert diff.max() <= 2 and (diff == 0).mean() >= 0.995, (case, diff.max(), (diff == 0).mean())


def test_groups_and_profiles_are_the_benchmark_csvs():
    assert list_corruptions("cbar") == list(IMAGENET_CBAR) and list_corruptions("cifar-cbar") == list(CIFAR_CBAR)
    assert REGISTRY["caustic_refraction"].tables["imagenet-cbar"] == (2.35, 3.2, 4.9, 6.6, 9.15)
    assert REGISTRY["sparkles"].tables["cifar-cbar"] == (0.7, 3.5, 5.6, 6.3, 7.0)
    assert "cocentric_sine_waves" in IMAGENET_CBAR and "transverse_chromatic_abberation" in CIFAR_CBAR  # their spellings
    assert not set(ALL_CBAR) & set(list_corruptions("all"))  # no existing group or profile gains one
    for name in ALL_CBAR:
        assert "imagenet" not in REGISTRY[name].tables and REGISTRY[name].severities(profiles_of(name)[0]) == (1, 2, 3, 4, 5)


@pytest.mark.parametrize("name", ALL_CBAR)
def test_one_image_gets_one_layout_at_every_severity(name, tmp_path):
    key = "n01440764/ILSVRC2012_val_00000001.JPEG"
    states = {output_seed(7, "imagenet", key, name, s).bit_generator.state["state"]["state"] for s in range(1, 6)}
    assert len(states) == 1
    fog = {output_seed(7, "imagenet", key, "fog", s).bit_generator.state["state"]["state"] for s in range(1, 6)}
    assert len(fog) == 5  # the other corruptions draw per output, as before


def test_sparkles_grow_in_place_with_the_severity():
    image = np.full((64, 64, 3), 40, np.uint8)
    lit = [corrupt_sample(image, "imagenet", "k", "sparkles", s, 3, "imagenet-cbar").mean(axis=2) > 60 for s in (1, 5)]
    assert lit[0].any() and (lit[1] | ~lit[0]).all() and lit[1].sum() > lit[0].sum()  # the same stars, bigger


def test_a_magnitude_sweeps_between_the_severities():
    image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    at_3 = corruptgen.corrupt(image, "caustic_refraction", 2, profile="imagenet-cbar", seed=5)
    assert np.array_equal(at_3, corruptgen.corrupt(image, "caustic_refraction", magnitude=3.2, seed=5))
    sweep = [corruptgen.corrupt(image, "blue_noise_sample", magnitude=m, seed=5) for m in (0.0, 3.3, 10.0)]
    blacked = [(s == 0).all(axis=2).mean() for s in sweep]
    assert blacked[0] < blacked[1] < blacked[2]


@pytest.mark.parametrize("kwargs,message", [
    ({"corruption": "fog", "magnitude": 3.0}, "magnitude applies to the C-bar corruptions"),
    ({"corruption": "sparkles", "magnitude": 11}, "magnitude must be a number from 0 to 10"),
    ({"corruption": "sparkles", "magnitude": 3.0, "severity": 2}, "give a severity or a magnitude, not both"),
    ({"corruption": "sparkles", "severity": 2}, "sparkles is not part of the imagenet profile"),
])  # fmt: skip
def test_wrong_magnitudes_and_profiles_get_one_sentence(kwargs, message):
    with pytest.raises(ValueError, match=message):
        corruptgen.corrupt(np.zeros((8, 8, 3), np.uint8), **kwargs)


@pytest.mark.parametrize("name", ALL_CBAR)
@pytest.mark.parametrize("shape", [(32, 32, 3), (28, 28), (57, 91, 3), (40, 30, 4), (3, 5)])
def test_any_size_and_channel_count(name, shape):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    profile = profiles_of(name)[0]
    out = corruptgen.corrupt(image, name, 5, profile=profile, seed=2)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out, corruptgen.corrupt(image, name, 5, profile=profile, seed=2))
    if len(shape) == 3 and shape[2] == 4:
        assert np.array_equal(out[:, :, 3], image[:, :, 3])


def test_a_zero_perlin_gradient_stays_zero_instead_of_nan():
    raw = np.random.RandomState(83).randint(0, 2**31, size=(514, 2)) % 512 - 256
    assert (raw[2] == 0).all()  # seed 83 draws (0, 0) for gradient 2
    _, gradients = cbar.perlin_tables(83)
    assert np.isfinite(gradients).all() and (gradients[2] == 0).all()
    assert np.allclose(np.linalg.norm(np.delete(gradients, [2, 258], axis=0), axis=1), 1)
    out = cbar.perlin_noise(np.full((64, 64, 3), 100, np.uint8), 83, 0.44, 1 / 32)
    assert out.min() > 0  # the reference's NaN would have blacked out a patch


def test_imagenet_c_bar_builds_in_its_layout_and_is_scored(tmp_path):
    src = make_imagenet(tmp_path / "src")
    out, runs = tmp_path / "inc-bar", tmp_path / "runs"
    cli("build", "imagenet", "--src", src, "--out", out, "--profile", "imagenet-cbar", "--severity-dirs", "magnitude",
        "--quiet")  # fmt: skip
    state = json.loads((out / "corruptgen.json").read_text())
    assert len(state["built"]) == 50 and state["identity"]["severity_dirs"] == "magnitude"
    files = sorted(p.relative_to(out).as_posix() for p in (out / "caustic_refraction").rglob("*.JPEG"))
    assert files[0] == "caustic_refraction/2.35/n01440764/ILSVRC2012_val_00000000.JPEG"
    assert {p.name for p in (out / "cocentric_sine_waves").iterdir()} == {"3.00", "5.00", "8.00", "9.00", "10.00"}
    assert "OK" in cli("verify", out).output
    cli("classify", out, "--model", "standin_models:mean_classifier", "--results", runs, "--quiet")
    cli("evaluate", out, "--results", runs)
    doc = json.loads((runs / "results.json").read_text())
    assert doc["benchmark_grid"] and doc["normalisation"] == "unnormalised"
    assert set(doc["cells"]) == set(IMAGENET_CBAR) and doc["mCE"] is not None
    refused = cli("build", "imagenet", "--src", src, "--out", tmp_path / "x", "--severity-dirs", "magnitude", expect=2)
    assert "give --profile imagenet-cbar or cifar-cbar" in refused.output


def test_cifar_10_c_bar_is_written_as_its_release(tmp_path):
    src = make_cifar(tmp_path / "src", n_test=6)
    out = tmp_path / "c10-bar"
    cli("build", "cifar10", "--src", src, "--out", out, "--profile", "cifar-cbar", "--quiet")
    assert sorted(p.stem for p in out.glob("*.npy")) == sorted([*CIFAR_CBAR, "labels"])
    labels = np.load(out / "labels.npy")
    ripple = np.load(out / "ripple.npy")
    assert ripple.shape == (30, 32, 32, 3) and ripple.dtype == np.uint8 and labels.shape == (30,)
    adapter = make_adapter("cifar10", src)
    images = np.stack([adapter.load(s)[0] for s in adapter.samples()])
    assert np.array_equal(labels, np.tile(adapter.labels(), 5))  # severity-major, as CIFAR-10-C
    for severity in (1, 5):
        for i in (0, 5):
            expected = corrupt_sample(images[i], "cifar10", f"test/{i:05d}", "ripple", severity, 0, "cifar-cbar")
            assert np.array_equal(ripple[(severity - 1) * 6 + i], expected)
