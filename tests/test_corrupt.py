"""corrupt(): shapes, modes, seeds and every error path, driven by the registry."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import corruptgen
from corruptgen.corruptions import FAMILIES, MNIST_C, REGISTRY

ALL = corruptgen.list_corruptions("all")  # every corruption with five severities (identity is MNIST-C's only)
RANDOM = [n for n in ALL if REGISTRY[n].random]
DETERMINISTIC = [n for n in ALL if not REGISTRY[n].random]
FIVE_SEVERITY_PROFILES = ["imagenet", "cifar", "tinyimagenet"]  # the size profiles; C-bar's are tests/test_cbar.py's


@pytest.fixture(scope="module")
def rgb(photos_224):
    return photos_224[0][:48, :64].copy()


def test_catalogue_order_and_groups():
    assert corruptgen.list_corruptions() == [
        "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
        "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
        "jpeg_compression",
    ]  # fmt: skip
    assert corruptgen.list_corruptions("extra") == ["speckle_noise", "gaussian_blur", "spatter", "saturate"]
    assert len(ALL) == 27 and ALL[19:] == ["shear", "scale", "rotate", "translate", "stripe", "dotted_line", "zigzag",
                                           "canny_edges"]  # fmt: skip
    families = [corruptgen.list_corruptions(f) for f in FAMILIES]
    assert sorted(sum(families, [])) == sorted(ALL)
    assert corruptgen.list_corruptions("mnist-c") == list(MNIST_C) and len(MNIST_C) == 16


@pytest.mark.parametrize("name", ALL)
def test_every_profile_has_five_severities(name):
    spec = REGISTRY[name]
    for profile in FIVE_SEVERITY_PROFILES:
        assert len(spec.tables[profile]) == 5
        for severity in range(1, 6):
            assert set(spec.params(severity, profile).as_dict()) == set(spec.param_names)


def test_the_mnist_c_profile_is_mnist_c_suite_at_one_severity():
    image = np.full((28, 28), 90, np.uint8)
    for name in REGISTRY:
        if name in MNIST_C:
            assert REGISTRY[name].severities("mnist-c") == (1,)
            assert corruptgen.corrupt(image, name, 1, seed=0, profile="mnist-c").shape == (28, 28)
            if name != "identity":
                with pytest.raises(ValueError, match=f"mnist-c profile defines severity 1 for {name}; got 2"):
                    corruptgen.corrupt(image, name, 2, seed=0, profile="mnist-c")
        else:
            with pytest.raises(ValueError, match=f"{name} is not part of the mnist-c profile; it is in .* The mnist-c profile has shot_noise, "):
                corruptgen.corrupt(image, name, 1, seed=0, profile="mnist-c")
    assert np.array_equal(corruptgen.corrupt(image, "identity", 1, profile="mnist-c"), image)


def _variants(rgb):
    gray = rgb[:, :, 1].copy()
    rgba = np.dstack([rgb, np.arange(rgb.shape[0] * rgb.shape[1], dtype=np.uint8).reshape(rgb.shape[:2])])
    return {
        "HxW": gray,
        "HxWx1": gray[:, :, None].copy(),
        "HxWx3": rgb,
        "HxWx4": rgba,
        "PIL-L": Image.fromarray(gray),
        "PIL-RGB": Image.fromarray(rgb),
        "PIL-RGBA": Image.fromarray(rgba),
    }


@pytest.mark.parametrize("name", ALL)
def test_shape_dtype_and_mode_preserved(name, rgb):
    for kind, image in _variants(rgb).items():
        out = corruptgen.corrupt(image, name, 3, seed=1)
        if isinstance(image, Image.Image):
            assert isinstance(out, Image.Image) and out.mode == image.mode and out.size == image.size, kind
        else:
            assert out.shape == image.shape and out.dtype == np.uint8, kind
            assert out.flags.writeable, kind  # a data loader's torch.from_numpy writes into it


@pytest.mark.parametrize("name", ALL)
def test_alpha_passes_through_and_input_untouched(name, rgb):
    rgba = _variants(rgb)["HxWx4"]
    before = rgba.copy()
    out = corruptgen.corrupt(rgba, name, 4, seed=2)
    np.testing.assert_array_equal(out[:, :, 3], rgba[:, :, 3])
    np.testing.assert_array_equal(rgba, before)


@pytest.mark.parametrize("name", ALL)
def test_corruption_changes_the_image(name, rgb):
    assert not np.array_equal(corruptgen.corrupt(rgb, name, 5, seed=0), rgb)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_bytes(name, rgb):
    a = corruptgen.corrupt(rgb, name, 3, seed=123)
    b = corruptgen.corrupt(rgb, name, 3, seed=123)
    assert a.tobytes() == b.tobytes()
    c = corruptgen.corrupt(rgb, name, 3, seed=np.random.default_rng(123))
    assert c.tobytes() == a.tobytes()


@pytest.mark.parametrize("name", RANDOM)
def test_other_seed_other_bytes(name, rgb):
    assert corruptgen.corrupt(rgb, name, 3, seed=1).tobytes() != corruptgen.corrupt(rgb, name, 3, seed=2).tobytes()


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_ignore_seed(name, rgb):
    assert corruptgen.corrupt(rgb, name, 3, seed=1).tobytes() == corruptgen.corrupt(rgb, name, 3, seed=2).tobytes()


def test_order_of_calls_does_not_matter(rgb):
    forward = {n: corruptgen.corrupt(rgb, n, 2, seed=7).tobytes() for n in ALL}
    backward = {n: corruptgen.corrupt(rgb, n, 2, seed=7).tobytes() for n in reversed(ALL)}
    assert forward == backward


def test_generator_is_advanced(rgb):
    rng = np.random.default_rng(5)
    first = corruptgen.corrupt(rgb, "gaussian_noise", 1, seed=rng)
    second = corruptgen.corrupt(rgb, "gaussian_noise", 1, seed=rng)
    assert first.tobytes() != second.tobytes()


_HASH_SCRIPT = """
import hashlib, json, sys
import cv2, numpy as np
threads = int(sys.argv[1])
cv2.setNumThreads(threads)
import corruptgen
img = np.load(sys.argv[2])
print(json.dumps({n: hashlib.sha256(corruptgen.corrupt(img, n, 3, seed=11).tobytes()).hexdigest()
                  for n in corruptgen.list_corruptions("all")}))
"""


def test_same_bytes_in_other_processes_and_thread_counts(rgb, tmp_path):
    path = tmp_path / "img.npy"
    np.save(path, rgb)
    here = {n: hashlib.sha256(corruptgen.corrupt(rgb, n, 3, seed=11).tobytes()).hexdigest() for n in ALL}
    for threads in (1, 2):
        out = subprocess.run([sys.executable, "-c", _HASH_SCRIPT, str(threads), str(path)],
                             capture_output=True, text=True, check=True, cwd=tmp_path)  # fmt: skip
        assert json.loads(out.stdout.strip().splitlines()[-1]) == here


EDGE_SHAPES = {"1x1": (1, 1, 3), "2x3": (2, 3, 3), "28x28 gray": (28, 28), "31x517": (31, 517, 3), "33x20 RGBA": (33, 20, 4)}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", list(EDGE_SHAPES.values()), ids=list(EDGE_SHAPES))
def test_edge_sizes_every_severity(name, shape):
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    for severity in range(1, 6):
        out = corruptgen.corrupt(image, name, severity, seed=severity)
        assert out.shape == image.shape and out.dtype == np.uint8


@pytest.mark.parametrize("profile", ["cifar", "tinyimagenet"])
@pytest.mark.parametrize("name", ALL)
def test_small_image_profiles(name, profile):
    image = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    for severity in range(1, 6):
        assert corruptgen.corrupt(image, name, severity, seed=0, profile=profile).shape == (32, 32, 3)


def test_profiles_select_their_tables(rgb):
    a = corruptgen.corrupt(rgb, "gaussian_noise", 5, seed=0)
    b = corruptgen.corrupt(rgb, "gaussian_noise", 5, seed=0, profile="cifar")
    # the CIFAR sigma (0.10) is far smaller than ImageNet's (0.38)
    assert np.abs(b.astype(int) - rgb).mean() < np.abs(a.astype(int) - rgb).mean() / 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"corruption": "fogg"}, "unknown corruption 'fogg'; valid names are gaussian_noise"),
        ({"corruption": None}, "unknown corruption None"),
        ({"severity": 0}, "severity must be an integer from 1 to 5; got 0"),
        ({"severity": 6}, "severity must be an integer from 1 to 5"),
        ({"severity": 2.5}, "severity must be an integer from 1 to 5; got 2.5"),
        ({"severity": True}, "severity must be an integer from 1 to 5; got True"),
        ({"profile": "mnist"}, "unknown profile 'mnist'; valid profiles are imagenet, cifar, tinyimagenet"),
        ({"seed": -1}, "seed must be None, a non-negative int or a numpy.random.Generator; got -1"),
        ({"seed": "0"}, "seed must be None"),
    ],
)
def test_bad_arguments(kwargs, match, rgb):
    args = {"image": rgb, "corruption": "fog", "severity": 1, **kwargs}
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        corruptgen.corrupt(args.pop("image"), args.pop("corruption"), args.pop("severity"), **args)


@pytest.mark.parametrize(
    "image, match",
    [
        (np.zeros((8, 8, 3), np.float32), "image must have dtype uint8; got float32"),
        (np.zeros((8, 8, 3), np.uint16), "image must have dtype uint8; got uint16"),
        (np.zeros((8, 8, 2), np.uint8), r"image must have shape HxW, HxWx1, HxWx3 or HxWx4; got \(8, 8, 2\)"),
        (np.zeros((8, 8, 5), np.uint8), "image must have shape"),
        (np.zeros((2, 8, 8, 3), np.uint8), "image must have shape"),
        (np.zeros(8, np.uint8), "image must have shape"),
        (np.zeros((0, 8, 3), np.uint8), r"image must be at least 1x1 pixels; got \(0, 8, 3\)"),
        (Image.new("P", (8, 8)), "PIL image mode must be one of L, RGB, RGBA; got 'P'"),
        (Image.new("CMYK", (8, 8)), "got 'CMYK'"),
        (Image.new("I;16", (8, 8)), "got 'I;16'"),
        ([[0, 1], [2, 3]], "image must be a numpy.ndarray or a PIL.Image.Image; got list"),
    ],
)
def test_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        corruptgen.corrupt(image, "contrast", 1)


_DIGEST = """
import hashlib, sys
import cv2, numpy as np
from skimage import data
if sys.argv[1] == "one":
    cv2.setNumThreads(1)
import corruptgen
from corruptgen.corruptions import IMAGECORRUPTIONS
image = cv2.resize(data.astronaut(), (61, 47), interpolation=cv2.INTER_AREA)
digest = hashlib.sha256()
for name in IMAGECORRUPTIONS:
    for severity in range(1, 6):
        digest.update(corruptgen.corrupt(image, name, severity, seed=7).tobytes())
print(digest.hexdigest())
"""


def test_same_bytes_across_processes_and_thread_settings():
    import os
    import subprocess
    import sys

    digests = set()
    for setting in ("one", "default"):
        env = dict(os.environ, **({"NUMBA_NUM_THREADS": "1"} if setting == "one" else {}))
        done = subprocess.run([sys.executable, "-c", _DIGEST, setting], env=env, capture_output=True, text=True, check=True)
        digests.add(done.stdout.strip())
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_concurrent_threads_give_the_sequential_bytes(rgb):
    from concurrent.futures import ThreadPoolExecutor

    from corruptgen.corruptions import IMAGECORRUPTIONS

    jobs = [(name, severity) for name in IMAGECORRUPTIONS for severity in (1, 5)]
    alone = [corruptgen.corrupt(rgb, name, s, seed=3).tobytes() for name, s in jobs]
    with ThreadPoolExecutor(4) as pool:  # per-thread work arrays: no call sees another's
        together = list(pool.map(lambda job: corruptgen.corrupt(rgb, job[0], job[1], seed=3).tobytes(), jobs * 3))
    assert together == alone * 3
