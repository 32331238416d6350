"""``corruptgen.augment``: types round-trip, targets by identity, determinism in data loaders,
pickling, torchvision v2 and albumentations pipelines, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from fixtures import assert_box_fits_pixels, warp_gain
from PIL import Image
from skimage import data

import corruptgen
from corruptgen.augment import Corrupt, CorruptedDataset, RandomCorruption

PHOTO = np.ascontiguousarray(data.astronaut()[100:164, 180:244])  # a real 64 x 64 face crop


def same_as_corrupt(out, image, params, profile="imagenet"):
    expected = corruptgen.corrupt(image, params["corruption"], params["severity"], seed=params["seed"], profile=profile)
    return np.array_equal(np.asarray(out), np.asarray(expected))


# --- numpy and PIL ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(64, 64), (64, 64, 1), (64, 64, 3), (64, 64, 4)])
def test_numpy_uint8_round_trip_equals_corrupt(shape):
    image = PHOTO[:, :, 0] if len(shape) == 2 else np.dstack([PHOTO, PHOTO[:, :, :1]])[:, :, : shape[2]]
    out, params = RandomCorruption(seed=3)(image, return_params=True)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert params["corruption"] in corruptgen.list_corruptions() and 1 <= params["severity"] <= 5
    assert same_as_corrupt(out, image, params)


def test_numpy_float_and_pil_round_trips():
    floats = PHOTO.astype(np.float32) / 255
    out, params = RandomCorruption("blur", seed=1)(floats, return_params=True)
    assert out.dtype == np.float32 and out.shape == floats.shape and 0 <= out.min() and out.max() <= 1
    assert np.array_equal(np.rint(out * 255).astype(np.uint8), corruptgen.corrupt(PHOTO, params["corruption"], params["severity"], seed=params["seed"]))
    for mode in ("L", "RGB", "RGBA"):
        pil = Image.fromarray(PHOTO).convert(mode)
        out = Corrupt("contrast", severity=4)(pil)
        assert isinstance(out, Image.Image) and out.mode == mode and out.size == pil.size


def test_p_zero_returns_the_same_object_and_p_is_respected():
    t = RandomCorruption(p=0.0, seed=0)
    assert t(PHOTO) is PHOTO
    half = RandomCorruption(p=0.5, seed=0)
    applied = sum(half(PHOTO, return_params=True)[1]["corruption"] is not None for _ in range(200))
    assert 70 < applied < 130


def test_weights_and_severity_forms():
    t = RandomCorruption(["fog", "snow", "frost"], severity=[2, 5], weights=[1, 0, 0], seed=0)
    draws = [t(PHOTO, return_params=True)[1] for _ in range(20)]
    assert {d["corruption"] for d in draws} == {"fog"} and {d["severity"] for d in draws} == {2, 5}
    ranged = RandomCorruption("noise", severity=(2, 3), seed=1)
    assert {ranged(PHOTO, return_params=True)[1]["severity"] for _ in range(30)} == {2, 3}


def test_targets_come_back_as_the_same_objects():
    boxes, masks, labels = np.array([[1, 2, 30, 40]]), np.zeros((1, 64, 64), bool), [7]
    t = RandomCorruption(seed=0)
    out = t({"image": PHOTO, "boxes": boxes, "masks": masks, "labels": labels})
    assert out["boxes"] is boxes and out["masks"] is masks and out["labels"] is labels
    assert out["image"].shape == PHOTO.shape and not np.array_equal(out["image"], PHOTO)
    image, target = t((PHOTO, {"boxes": boxes}))
    assert target["boxes"] is boxes and image.shape == PHOTO.shape
    first, second = t(PHOTO, boxes)  # v2.Compose's calling convention for several inputs
    assert second is boxes and first.shape == PHOTO.shape


def test_seeded_streams_repeat_and_replay_reproduces():
    a, b = RandomCorruption(seed=5), RandomCorruption(seed=5)
    for _ in range(5):
        out_a, params = a(PHOTO, return_params=True)
        assert np.array_equal(out_a, b(PHOTO))
        assert np.array_equal(RandomCorruption().replay(PHOTO, params=params), out_a)
    at = RandomCorruption(seed=5).at(epoch=2, index=17)
    assert np.array_equal(at(PHOTO), RandomCorruption(seed=5).at(2, 17)(PHOTO))
    assert not np.array_equal(at(PHOTO), RandomCorruption(seed=5).at(2, 18)(PHOTO))


def test_pickle_and_repr():
    t = RandomCorruption("weather", severity=(1, 3), p=0.5, seed=11)
    t(PHOTO)
    clone = pickle.loads(pickle.dumps(t))
    for _ in range(3):
        assert np.array_equal(clone(PHOTO), t(PHOTO))  # the generator's state travelled too
    assert repr(t) == "RandomCorruption(corruptions='weather', severity=(1, 3), p=0.5, profile='imagenet', seed=11)"
    assert repr(Corrupt("fog", severity=3)) == "Corrupt('fog', severity=3, profile='imagenet', seed=None)"
    assert repr(t.at(1, 2)).endswith(".at(epoch=1, index=2)")


@pytest.mark.parametrize("kwargs, words", [
    ({"corruptions": "blurry"}, "unknown corruption 'blurry'"),
    ({"corruptions": []}, "corruptions is empty"),
    ({"severity": 0}, "severity must be an int from 1 to 5"),
    ({"severity": (4, 2)}, "1 <= lo <= hi <= 5"),
    ({"severity": []}, "non-empty list"),
    ({"p": 1.5}, "p must be a probability in [0, 1]"),
    ({"corruptions": ["fog", "snow"], "weights": [1]}, "weights must be 2 non-negative numbers"),
    ({"profile": "mnist"}, "unknown profile 'mnist'"),
    ({"seed": -1}, "seed must be None or a non-negative int"),
])  # fmt: skip
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=None) as info:
        RandomCorruption(**kwargs)
    assert words in str(info.value)


def test_bad_inputs():
    t = RandomCorruption(seed=0)
    with pytest.raises(ValueError, match="found no image in a str"):
        t("photo.jpg")
    with pytest.raises(ValueError, match="must be uint8, or float in"):
        t(PHOTO.astype(np.int16))
    with pytest.raises(ValueError, match=r"must hold values in \[0, 1\]"):
        t(PHOTO.astype(np.float32))
    with pytest.raises(ValueError, match="needs a transform made with seed"):
        RandomCorruption().at(0, 0)
    with pytest.raises(ValueError, match="unknown corruption 'fogg'"):
        Corrupt("fogg")


def test_geometric_corruption_refuses_to_strand_targets():
    t = Corrupt("elastic_transform", severity=2, profile="cifar", seed=0)
    assert t(PHOTO).shape == PHOTO.shape  # alone, an image may move
    with pytest.raises(ValueError, match="elastic_transform moves image content under profile 'cifar'.*boxes, which only "
                                         "torchvision's BoundingBoxes, Mask and KeyPoints beside one image can follow"):
        t({"image": PHOTO, "boxes": np.array([[1, 2, 3, 4]])})  # a plain array: its format is unknown


@pytest.mark.parametrize("name,severity,profile", [("rotate", 3, "imagenet"), ("shear", 5, "imagenet"),
                                                    ("translate", 4, "imagenet"), ("scale", 2, "imagenet"),
                                                    ("elastic_transform", 5, "cifar")])  # fmt: skip
def test_torchvision_targets_move_with_a_geometric_corruption(name, severity, profile):
    torch = pytest.importorskip("torch")
    from torchvision import tv_tensors

    square = np.zeros((96, 128, 3), np.uint8)
    square[30:66, 40:88] = 255
    sample = {
        "image": tv_tensors.Image(torch.from_numpy(square).permute(2, 0, 1)),
        "boxes": tv_tensors.BoundingBoxes(torch.tensor([[40.0, 30.0, 48.0, 36.0]]), format="XYWH", canvas_size=(96, 128)),
        "masks": tv_tensors.Mask(torch.from_numpy(square[:, :, 0] > 0)[None].to(torch.uint8)),
        "keypoints": tv_tensors.KeyPoints(torch.tensor([[40.0, 30.0], [88.0, 66.0]]), canvas_size=(96, 128)),
        "labels": torch.tensor([7]),
    }
    out = Corrupt(name, severity, profile=profile, seed=1)(sample)
    white = out["image"].permute(1, 2, 0).numpy()[:, :, 0] > 127
    ys, xs = np.nonzero(white)
    assert out["boxes"].format == tv_tensors.BoundingBoxFormat.XYWH and type(out["boxes"]) is tv_tensors.BoundingBoxes
    x, y, w, h = out["boxes"][0].tolist()
    if profile == "imagenet":  # an affine: the box is exactly the moved rectangle's
        assert_box_fits_pixels((x, y, x + w, y + h), white, warp_gain(name, severity))
        corners = out["keypoints"].numpy()
        assert {tuple(np.rint(c).astype(int)) for c in corners} <= {(a, b) for a in range(xs.min() - 2, xs.max() + 4)
                                                                      for b in range(ys.min() - 2, ys.max() + 4)}  # fmt: skip
    mask = out["masks"].numpy()[0].astype(bool)
    assert type(out["masks"]) is tv_tensors.Mask and (mask & white).sum() / (mask | white).sum() > 0.9
    assert out["labels"] is sample["labels"]
    # a photometric corruption leaves every target the same object
    same = Corrupt("fog", 2, seed=1)(sample)
    assert all(same[k] is sample[k] for k in ("boxes", "masks", "keypoints", "labels"))


def test_corrupted_dataset_needs_a_seed():
    with pytest.raises(ValueError, match="needs a transform made with seed"):
        CorruptedDataset([PHOTO], RandomCorruption())


# --- torch, tv_tensors, DataLoader --------------------------------------------------------------


def test_torch_tensors_single_and_batched():
    torch = pytest.importorskip("torch")
    chw = torch.from_numpy(PHOTO).permute(2, 0, 1).contiguous()
    out, params = RandomCorruption(seed=2)(chw, return_params=True)
    assert out.shape == chw.shape and out.dtype == torch.uint8
    assert same_as_corrupt(out.permute(1, 2, 0).numpy(), PHOTO, params)
    batch = torch.stack([chw, chw, chw]).float() / 255
    out, params = RandomCorruption(seed=2)(batch, return_params=True)
    assert out.shape == batch.shape and out.dtype == torch.float32 and len(params) == 3
    assert len({(p["corruption"], p["severity"]) for p in params}) > 1  # each image drew its own
    for i, p in enumerate(params):
        expected = corruptgen.corrupt(PHOTO, p["corruption"], p["severity"], seed=p["seed"])
        assert np.array_equal(np.rint(out[i].permute(1, 2, 0).numpy() * 255).astype(np.uint8), expected)
    with pytest.raises(ValueError, match=r"must hold values in \[0, 1\]"):
        RandomCorruption(seed=0)(batch * 2)
    with pytest.raises(ValueError, match="C x H x W or N x C x H x W"):
        RandomCorruption(seed=0)(torch.zeros(5, 64, 64, dtype=torch.uint8))


def test_tv_tensors_in_a_v2_compose():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    import torchvision.transforms.v2 as T
    from torchvision import tv_tensors

    assert isinstance(RandomCorruption(), T.Transform)
    image = tv_tensors.Image(torch.from_numpy(PHOTO).permute(2, 0, 1))
    boxes = tv_tensors.BoundingBoxes([[4, 4, 40, 40]], format="XYXY", canvas_size=(64, 64))
    mask = tv_tensors.Mask(torch.zeros(1, 64, 64, dtype=torch.uint8))
    out = RandomCorruption(seed=0)({"image": image, "boxes": boxes, "masks": mask, "labels": torch.tensor([3])})
    assert type(out["image"]) is tv_tensors.Image and out["boxes"] is boxes and out["masks"] is mask
    pipeline = T.Compose([T.RandomResizedCrop(48, antialias=True), RandomCorruption(seed=0), T.ToDtype(torch.float32, scale=True)])
    img, target = pipeline(image, {"boxes": boxes, "labels": torch.tensor([3])})
    assert type(img) is tv_tensors.Image and img.dtype == torch.float32 and img.shape == (3, 48, 48)
    assert type(target["boxes"]) is tv_tensors.BoundingBoxes and target["boxes"].canvas_size == (48, 48)
    video = tv_tensors.Video(torch.stack([image, image]))
    out, params = RandomCorruption(seed=0)(video, return_params=True)
    assert type(out) is tv_tensors.Video and isinstance(params, dict)  # one draw for the whole clip
    assert torch.equal(out[0], out[1])


class _Photos:
    """Eight copies of one real photograph: every difference comes from the transform."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return {"image": PHOTO, "index": index}


def _collect(loader):
    return {int(i): img.numpy() for batch in loader for i, img in zip(batch["index"], batch["image"])}


def test_same_pixels_per_index_whatever_the_workers_and_order():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    dataset = CorruptedDataset(_Photos(), RandomCorruption(seed=7), epoch=3)
    serial = _collect(DataLoader(dataset, batch_size=2, num_workers=0))
    parallel = _collect(DataLoader(dataset, batch_size=2, num_workers=2, shuffle=True, generator=torch.Generator().manual_seed(1)))
    assert serial.keys() == parallel.keys() == set(range(8))
    assert all(np.array_equal(serial[i], parallel[i]) for i in range(8))
    assert len({serial[i].tobytes() for i in range(8)}) == 8  # and the samples differ from each other
    dataset.set_epoch(4)
    assert not np.array_equal(_collect(DataLoader(dataset, batch_size=2))[0], serial[0])


class _Draws:
    def __init__(self, transform):
        self.transform = transform

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return str(self.transform(PHOTO, return_params=True)[1])


def test_workers_draw_distinct_streams():
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    def draws(transform):
        loader = DataLoader(_Draws(transform), batch_size=4, num_workers=2)  # worker 0: items 0-3, worker 1: 4-7
        flat = [d for batch in loader for d in batch]
        return flat[:4], flat[4:]

    first, second = draws(RandomCorruption(seed=None))
    assert first != second  # not the classic copy of one NumPy state in every worker
    seeded = draws(RandomCorruption(seed=9))
    assert seeded[0] != seeded[1] and seeded == draws(RandomCorruption(seed=9))


# --- albumentations -----------------------------------------------------------------------------


def test_albumentations_compose_seed_reproduces_and_targets_stay():
    A = pytest.importorskip("albumentations")
    from corruptgen.augment.albumentations import Corruption

    def run(seed):
        pipeline = A.Compose([A.HorizontalFlip(p=0.5), Corruption("weather", severity=(1, 3), p=0.7)],
                             bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=seed)  # fmt: skip
        return [pipeline(image=PHOTO, bboxes=[[4, 4, 40, 40]], labels=[1]) for _ in range(6)]

    a, b, c = run(137), run(137), run(1)
    assert all(np.array_equal(x["image"], y["image"]) for x, y in zip(a, b))
    assert any(not np.array_equal(x["image"], y["image"]) for x, y in zip(a, c))
    assert any(not np.array_equal(x["image"], PHOTO) and not np.array_equal(x["image"], PHOTO[:, ::-1]) for x in a)
    assert all(np.allclose(r["bboxes"], [[4, 4, 40, 40]]) or np.allclose(r["bboxes"], [[24, 4, 60, 40]]) for r in a)
    out = A.Compose([Corruption("noise", p=1.0)], seed=0)(image=PHOTO.astype(np.float32) / 255)["image"]
    assert out.dtype == np.float32 and out.shape == PHOTO.shape
    with pytest.raises(ValueError, match="moves image content"):
        Corruption("elastic_transform", profile="cifar")
    with pytest.raises(ValueError, match="unknown corruption"):
        Corruption("fogg")


def test_the_guides_training_examples_run():
    pytest.importorskip("torchvision")
    pytest.importorskip("albumentations")
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "augmentation.md").read_text()
    section = text.split("\n## ", 1)[0]  # the training examples, before the drop-ins
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    runnable = [b for b in blocks if "my_dataset" not in b]
    assert len(runnable) == 4  # plain, torchvision v2, SanitizeBoundingBoxes after it, albumentations
    namespace: dict = {}  # one namespace, as a reader runs them top to bottom
    for block in runnable:
        exec(compile(block, "augmentation.md", "exec"), namespace)  # noqa: S102 (our own documentation)
        if "SanitizeBoundingBoxes" in block:
            assert len(namespace["target"]["boxes"]) == len(namespace["target"]["labels"]) == 1
    assert namespace["out"].shape == (224, 224, 3)
