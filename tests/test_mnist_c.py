"""MNIST-C: its suite as a profile, against outputs of MNIST-C's own code (tests/data), its eight
corruptions at 28 px, and its release layout built from idx files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures import make_mnist, photo, tree_digest
from skimage.feature import canny

import corruptgen
from corruptgen.api import corrupt_rgb_or_gray
from corruptgen.cli import main
from corruptgen.corruptions import MNIST_C, REGISTRY, get_corruption
from corruptgen.kernels import strokes
from corruptgen.kernels.glass import glass_blur, glass_offset_count, glass_shuffle
from corruptgen.kernels.quantise import to_uint8

NEW = ("shear", "scale", "rotate", "translate", "stripe", "dotted_line", "zigzag", "canny_edges")
# the default profile's severity that equals MNIST-C's setting (each class docstring says so)
MNIST_C_SEVERITY = {"shear": 2, "rotate": 2, "scale": 3, "translate": 3, "stripe": 3, "dotted_line": 2, "zigzag": 2,
                    "canny_edges": 4}  # fmt: skip


REFERENCE = np.load(Path(__file__).parent / "data" / "mnist_c_reference.npz")
"""google-research/mnist-c's own corruptions.py on 24 Fashion-MNIST digits, rounded as its
``round_and_astype``: written once by ``scripts/fidelity_mnist_c.py --fixture``, which fed it our
draws (recorded per digit) where it can be fed, and per-digit statistics over many draws elsewhere."""
FED_TOLERANCE = {"motion_blur": 0.995, "shear": 0.99, "scale": 0.99, "rotate": 0.99, "glass_blur": 0.999}
"""Least share of identical pixels (the rest one level off): OpenCV's affines resample on a 1/32 px
grid, motion blur is imagecorruptions' NumPy restatement of ImageMagick's; the rest are exact."""
STATISTICAL = ("shot_noise", "impulse_noise", "fog", "spatter")


def image_statistics(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The fidelity script's per-image statistics: mean, std, share changed, mean |d/dx|, mean |d/dy|."""
    y = y.astype(np.float64)
    return np.array([y.mean(), y.std(), (y != x).mean(), np.abs(np.diff(y, axis=1)).mean(),
                     np.abs(np.diff(y, axis=0)).mean()])  # fmt: skip


def mnist_c(name: str, x: np.ndarray, seed: int) -> np.ndarray:
    spec = get_corruption(name)
    return corrupt_rgb_or_gray(x[:, :, None], spec, 1, np.random.default_rng(seed), "mnist-c")[:, :, 0]


def test_the_reference_fixture_covers_the_suite():
    fed = {name for name in REFERENCE.files if "." not in name and name != "digits" and name != "draws_per_digit"}
    assert fed | set(STATISTICAL) == set(MNIST_C) and not fed & set(STATISTICAL)


@pytest.mark.parametrize("name", [n for n in MNIST_C if n not in STATISTICAL])
def test_mnist_c_profile_is_the_reference_code_fed_the_same_draws(name):
    spec = get_corruption(name)
    reference = REFERENCE[name]
    for i, x in enumerate(REFERENCE["digits"]):
        draws = spec.sample(np.random.default_rng(i), (28, 28, 1), spec.params(1, "mnist-c"))
        recorded = json.loads(str(REFERENCE[f"{name}.draws"][i]))
        assert {k: np.asarray(v).tolist() for k, v in draws.items()} == recorded, "our draws changed: rerun the script"
        diff = np.abs(mnist_c(name, x, i).astype(int) - reference[i])
        assert diff.max() <= (1 if name in FED_TOLERANCE else 0), (name, i)
        assert (diff == 0).mean() >= FED_TOLERANCE.get(name, 1.0), (name, i, (diff == 0).mean())


@pytest.mark.parametrize("name", STATISTICAL)
def test_mnist_c_random_corruptions_match_the_reference_code_in_per_image_statistics(name):
    draws = int(REFERENCE["draws_per_digit"])
    reference = REFERENCE[f"{name}.stats"]
    ours = np.zeros_like(reference)
    for i, x in enumerate(REFERENCE["digits"][: len(reference)]):
        for k in range(draws):
            ours[i] += image_statistics(mnist_c(name, x, i * draws + k), x) / draws
    relative = np.abs(ours.mean(0) - reference.mean(0)) / np.abs(reference.mean(0))
    assert relative.max() <= 0.03, relative


def test_glass_blur_under_mnist_c_blurs_along_axis_0_only():
    """MNIST-C's gaussian(..., multichannel=True) on a 2-D digit: no blur across columns."""
    p = get_corruption("glass_blur").params(1, "mnist-c")
    stripes = np.zeros((28, 28, 1), np.uint8)
    stripes[:, ::2] = 255  # constant down each column: a blur along axis 0 leaves it, one across columns greys it
    still = np.zeros((p.iterations, *glass_offset_count(28, 28, p.max_delta), 2), np.int8)  # no pixel moves
    unit = stripes.astype(np.float32) / 255
    assert np.array_equal(to_uint8(glass_blur(unit, p.sigma, p.max_delta, still, swap=True), rounded=True), stripes)
    both_axes = to_uint8(glass_blur(unit, p.sigma[0], p.max_delta, still, swap=True), rounded=True)
    assert np.abs(both_axes.astype(int) - stripes).max() > 50


def test_mnist_c_rounds_where_the_other_profiles_truncate():
    x = np.zeros((28, 28), np.uint8)  # brightness +0.5: 127.5, rounded half to even
    assert corruptgen.corrupt(x, "brightness", 1, profile="mnist-c")[0, 0] == 128
    assert corruptgen.corrupt(x, "brightness", 5)[0, 0] == 127
    assert get_corruption("shear").params(1, "mnist-c").rounded
    assert not any(get_corruption("shear").params(s, profile).rounded
                   for profile in ("imagenet", "cifar", "tinyimagenet") for s in range(1, 6))  # fmt: skip


def digit() -> np.ndarray:
    return photo(2, 28, 28)[:, :, 0]


@pytest.mark.parametrize("name", NEW)
def test_default_severities_bracket_mnist_c_and_say_which_equals_it(name):
    spec = REGISTRY[name]
    assert spec.params(MNIST_C_SEVERITY[name]).as_dict() == spec.params(1, "mnist-c").as_dict()
    assert f"severity {MNIST_C_SEVERITY[name]})" in spec.__doc__
    for seed in range(3):  # the same result but for the conversion: the mnist-c profile rounds, the default truncates
        truncated = corruptgen.corrupt(digit(), name, MNIST_C_SEVERITY[name], seed=seed).astype(int)
        rounded = corruptgen.corrupt(digit(), name, 1, seed=seed, profile="mnist-c").astype(int)
        assert set(np.unique(rounded - truncated)) <= {0, 1}


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 3), (57, 91, 3), (40, 30, 4), (3, 5)])
def test_new_corruptions_take_any_size_and_channel_count(name, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    for severity in range(1, 6):
        out = corruptgen.corrupt(image, name, severity, seed=1)
        assert out.shape == image.shape and out.dtype == np.uint8
    if len(shape) == 3 and shape[2] == 4:
        assert np.array_equal(out[:, :, 3], image[:, :, 3])  # alpha passes through


def test_stripe_inverts_mnist_c_columns():
    x = digit()
    out = corruptgen.corrupt(x, "stripe", 1, profile="mnist-c")
    inverted = np.zeros(28, bool)
    inverted[:7] = inverted[21:] = True
    assert np.array_equal(out[:, inverted], 255 - x[:, inverted]) and np.array_equal(out[:, ~inverted], x[:, ~inverted])


def test_line_layer_is_mnist_c_line_from_points_at_28_px():
    layer = strokes.line_layer(28, 28, 0, 5, 27, 20)
    rows, cols = np.mgrid[0:28, 0:28].astype(float)
    dist = np.clip(np.abs(rows - ((20 - 5) / 27 * cols + 5)), 0, 2.3 - 1e-10)
    expected = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
    expected[:, 27:] = 0  # MNIST-C cuts from ceil(c1) = 27 on
    assert np.allclose(layer, expected, atol=1e-6)
    cut = strokes.line_layer(28, 28, 2.4, 5, 25.2, 9)
    assert not cut[:, :2].any() and not cut[:, 26:].any() and cut[:, 2:26].any()


def test_dotted_line_dashes_two_columns_on_two_off():
    dark = np.zeros((28, 28), np.uint8)
    out = corruptgen.corrupt(dark, "dotted_line", 1, seed=3, profile="mnist-c")
    lit = out.any(axis=0)
    assert not lit[[0, 1, 4, 5, 24, 25, 27]].any() and lit[[2, 3, 6, 7, 26]].sum() >= 4


def test_zigzag_follows_mnist_c_vertices():
    points = strokes.zigzag_points(10, 10)  # horizontal: vertices alternate +-2 rows every 2 columns
    assert np.allclose(points[:, :4].T, [[2, 10], [4, 12], [8, 8], [12, 12]])
    assert points[0, -1] == pytest.approx(25)


def test_canny_edges_is_scikit_image_canny_at_28_px():
    x = digit()
    out = corruptgen.corrupt(x, "canny_edges", 1, profile="mnist-c")
    assert np.array_equal(out, canny(x / 255.0).astype(np.uint8) * 255)


def test_mnist_c_glass_blur_swaps_pixels():
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8, 1)
    offsets = np.random.default_rng(0).integers(-1, 1, size=(2, 6, 6, 2)).astype(np.int8)
    swapped = glass_shuffle(pixels, offsets, 1, swap=True)
    assert sorted(swapped.ravel()) == sorted(pixels.ravel()) and not np.array_equal(swapped, pixels)
    copied = glass_shuffle(pixels, offsets, 1, swap=False)  # imagecorruptions' copy loses values
    assert len(set(copied.ravel())) < 64


def test_mnist_c_spatter_is_grey_mud_and_fog_draws_a_256_map():
    spec = get_corruption("spatter")
    assert spec.params(1, "mnist-c").mud_rgb == (63, 63, 63) and spec.params(4).mud_rgb == (63, 42, 20)
    fog = get_corruption("fog")
    assert fog._mapsize((28, 28, 1), fog.params(1, "mnist-c")) == 256 and fog._mapsize((28, 28, 1), fog.params(1)) == 32
    x = np.full((28, 28), 200, np.uint8)
    grey = corruptgen.corrupt(x, "spatter", 1, seed=5, profile="mnist-c")
    brown = corruptgen.corrupt(x, "spatter", 4, seed=5)  # the same draws and table, imagecorruptions' brown
    muddy = brown < 150
    assert muddy.any() and np.array_equal(grey < 150, muddy)
    assert grey[muddy].min() >= 63 and grey[muddy].min() > brown[muddy].min() + 10  # brown's luma is 46


def build(*args, expect=0):
    result = CliRunner().invoke(main, ["build", *map(str, args)])
    assert result.exit_code == expect, result.output + str(result.exception)
    return result


def test_mnist_c_release_layout(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    out = tmp_path / "mnist_c"
    build("mnist", "--profile", "mnist-c", "--src", src, "--out", out, "--shard-size", "4")
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "manifests")
    assert folders == sorted(MNIST_C)
    source = np.load(out / "identity" / "train_images.npy")
    for name in MNIST_C:
        files = sorted(p.name for p in (out / name).iterdir())
        assert files == ["test_images.npy", "test_labels.npy", "train_images.npy", "train_labels.npy"], name
        for split, n in (("train", 9), ("test", 6)):
            images, labels = np.load(out / name / f"{split}_images.npy"), np.load(out / name / f"{split}_labels.npy")
            assert images.shape == (n, 28, 28, 1) and images.dtype == np.uint8, name
            assert labels.shape == (n,) and labels.dtype == np.uint8
            assert np.array_equal(labels, np.load(out / "identity" / f"{split}_labels.npy"))
        if name != "identity":
            assert not np.array_equal(np.load(out / name / "train_images.npy"), source), name
    from corruptgen.datasets.mnist import read_idx

    assert np.array_equal(source[:, :, :, 0], read_idx(src / "train-images-idx3-ubyte.gz", 3))
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0
    state = json.loads((out / "corruptgen.json").read_text())
    assert state["identity"]["profile"] == "mnist-c" and state["status"] == "complete"


def test_mnist_c_build_is_the_same_whatever_the_workers_and_shards(tmp_path):
    src = make_mnist(tmp_path / "mnist", n_train=9, n_test=6)
    args = ["mnist", "--profile", "mnist-c", "--src", src, "--corruptions", "rotate,zigzag,glass_blur,fog"]
    build(*args, "--out", tmp_path / "a", "--workers", "1", "--shard-size", "2")
    build(*args, "--out", tmp_path / "b", "--workers", "2", "--shard-size", "7")
    a, b = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    same = [k for k in a if "/shard-" not in k]
    assert same and all(a[k] == b[k] for k in same)


@pytest.mark.parametrize("args,message", [
    (["--corruptions", "snow"], "snow is not part of the mnist-c profile; it is in imagenet"),
    (["--corruptions", "rotate", "--severities", "3"], "the mnist-c profile defines severity 1 for rotate; got 3"),
    (["--corruptions", "identity", "--profile", "imagenet"], "identity is not part of the imagenet profile"),
])  # fmt: skip
def test_asking_a_profile_for_what_it_lacks_is_one_sentence(tmp_path, args, message):
    src = make_mnist(tmp_path / "mnist")
    profile = [] if "--profile" in args else ["--profile", "mnist-c"]
    result = build("mnist", "--src", src, "--out", tmp_path / "out", *profile, *args, expect=2)
    assert message in result.output and "Traceback" not in result.output and not (tmp_path / "out").exists()


FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist; CI installs it)")
def test_mnist_c_from_real_idx_files(tmp_path):
    out = tmp_path / "fashion_mnist_c"
    build("mnist", "--profile", "mnist-c", "--src", FASHION_MNIST, "--split", "test", "--out", out,
          "--corruptions", "identity,rotate,stripe,canny_edges", "--quiet")  # fmt: skip
    from corruptgen.datasets.mnist import read_idx

    source = read_idx(FASHION_MNIST / "t10k-images-idx3-ubyte.gz", 3)
    for name in ("identity", "rotate", "stripe", "canny_edges"):
        images = np.load(out / name / "test_images.npy")
        assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
        assert np.array_equal(np.load(out / name / "test_labels.npy"), read_idx(FASHION_MNIST / "t10k-labels-idx1-ubyte.gz", 1))
    assert np.array_equal(np.load(out / "identity" / "test_images.npy")[:, :, :, 0], source)
    assert np.array_equal(np.load(out / "stripe" / "test_images.npy")[:, :, :7, 0], 255 - source[:, :, :7])
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


def test_augmentation_under_the_mnist_c_profile():
    from corruptgen.augment import RandomCorruption

    transform = RandomCorruption(corruptions="mnist-c", severity=1, profile="mnist-c", p=1.0, seed=0)
    assert transform(digit()).shape == (28, 28)
    with pytest.raises(ValueError, match="the mnist-c profile defines severity 1 for identity; got 2"):
        RandomCorruption(corruptions="mnist-c", profile="mnist-c")
    with pytest.raises(ValueError, match="gaussian_noise is not part of the mnist-c profile"):
        RandomCorruption(corruptions="benchmark", severity=1, profile="mnist-c")


def test_classify_mnist_c_on_the_fly_equals_its_built_tree(tmp_path, monkeypatch):
    """`classify mnist --on-the-fly --profile mnist-c` runs MNIST-C's suite (as the build does, not the
    benchmark's 15, which the profile lacks), and a model whose answers depend on every pixel gives
    the same results file for every cell as on the built release layout."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    src = make_mnist(tmp_path / "mnist")
    tree = tmp_path / "mnist_c"
    runner = CliRunner()

    def cli(*args):
        result = runner.invoke(main, [str(a) for a in args])
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    cli("build", "mnist", "--src", src, "--split", "test", "--profile", "mnist-c", "--out", tree, "--quiet", "--workers", "1")
    model = ("--model", "standin_models:mean_classifier", "--quiet")
    cli("classify", tree, *model, "--results", tmp_path / "built")
    cli("classify", "mnist", "--on-the-fly", "--src", src, "--split", "test", "--profile", "mnist-c", *model,
        "--results", tmp_path / "fly")  # fmt: skip
    cells = sorted(p.relative_to(tmp_path / "built").as_posix() for p in (tmp_path / "built").rglob("*/1.json"))
    assert cells == sorted(f"{name}/1.json" for name in MNIST_C)
    for cell in ["clean.json", *cells]:
        assert (tmp_path / "built" / cell).read_bytes() == (tmp_path / "fly" / cell).read_bytes(), cell
    doc = json.loads(cli("evaluate", "--results", tmp_path / "fly").output and (tmp_path / "fly" / "results.json").read_text())
    assert doc["on_the_fly"] and sorted(doc["corruptions"]) == sorted(MNIST_C[1:]) and doc["benchmark_grid"]
