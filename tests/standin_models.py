"""Tiny stand-in models for the runner tests, imported by ``--model standin_models:<factory>``."""

from __future__ import annotations

import json
import os

import numpy as np


def oracle_detector():
    """Returns each image's ground truth (boxes and masks), found by the image's size."""
    from pycocotools.coco import COCO

    doc = json.loads(open(os.environ["STANDIN_GT"]).read())
    gt = COCO()
    gt.dataset = doc
    gt.createIndex()
    by_size = {(img["height"], img["width"]): gt.loadAnns(gt.getAnnIds(imgIds=[img["id"]])) for img in doc["images"]}

    def predict(images):
        out = []
        for image in images:
            anns = by_size[image.shape[:2]]
            boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]] for a in anns])
            masks = np.stack([gt.annToMask(a) for a in anns])
            out.append({"boxes": boxes, "scores": np.ones(len(anns)), "labels": [a["category_id"] for a in anns], "masks": masks})
        return out

    return predict


def brightness_detector():
    """One fixed box per image, scored by the image's mean: its results depend on every pixel."""
    return lambda images: [{"boxes": [[2, 2, 20, 20]], "scores": [float(im.mean()) / 255], "labels": [1]} for im in images]


def constant_classifier():
    return lambda images: np.zeros(len(images), dtype=np.int64)


def mean_classifier():
    """The class is the image's mean grey level (in hundredths, exactly) modulo 10: its predictions depend on
    every pixel."""
    return lambda images: np.array([int(image.astype(np.int64).sum()) * 100 // image.size % 10 for image in images])


def wrong_shapes():
    return lambda images: [{"boxes": np.zeros((1, 3)), "scores": [1.0], "labels": [1]} for _ in images]


def wrong_count():
    return lambda images: [0]


NOT_CALLABLE = 3


def halves_segmenter():
    """Road (7) above the middle row, car (26) below: the ground truth of the segmentation test."""

    def segment(images):
        maps = []
        for image in images:
            labels = np.full(image.shape[:2], 26, np.uint8)
            labels[: image.shape[0] // 2] = 7
            maps.append(labels)
        return maps

    return segment


def stacked_mean_classifier():
    """``mean_classifier`` asking for one stacked uint8 array per batch (``batch_format``)."""

    def predict(batch):
        assert isinstance(batch, np.ndarray) and batch.dtype == np.uint8 and batch.ndim == 4, type(batch)
        flat = batch.reshape(len(batch), -1).astype(np.int64)
        return flat.sum(axis=1) * 100 // flat.shape[1] % 10

    predict.batch_format = "numpy"
    return predict


def tensor_mean_classifier():
    """``mean_classifier`` on a torch tensor batch, answering with a tensor."""
    import torch

    def predict(batch):
        assert isinstance(batch, torch.Tensor) and batch.dtype == torch.uint8
        flat = batch.reshape(len(batch), -1).long()
        return torch.div(flat.sum(dim=1) * 100, flat.shape[1], rounding_mode="floor") % 10

    predict.batch_format = "torch"
    return predict


def histogram_scorer():
    """Scores over 10 classes: the image's grey-level histogram in 10 bins (a frame's top five move as the
    frames change)."""

    def predict(images):
        rows = []
        for image in images:
            counts = np.histogram(np.asarray(image, dtype=np.float64).mean(axis=2), bins=10, range=(0, 256))[0]
            rows.append(counts / counts.sum())
        return np.array(rows)

    return predict


def histogram_argmax():
    """``histogram_scorer``'s argmax as class indices: the predictions a scores model is scored by."""
    scorer = histogram_scorer()
    return lambda images: np.argmax(scorer(images), axis=1)


def colour_coded():
    """1000 ImageNet logits per image, known from its centre (``fixtures.coded_photo``): the coded class
    scores 10, the runner-up 9, the rest a fixed pseudo-random ramp below 5 (so every rule has an answer)."""
    ramp = np.random.default_rng(0).random(1000) * 5

    def predict(images):
        rows = []
        for image in images:
            r, g, b = (int(v) for v in image[image.shape[0] // 2, image.shape[1] // 2])
            top = r * 4 + g // 64
            logits = ramp.copy()
            logits[(top + b - 128) % 1000] = 9.0
            logits[top] = 10.0
            rows.append(logits)
        return np.array(rows)

    return predict


def colour_coded_indices():
    """``colour_coded``'s argmax alone (a model that returns class indices)."""
    scorer = colour_coded()
    return lambda images: scorer(images).argmax(axis=1)


def tiny_bn_cnn():
    """A torch.nn.Module with BatchNorm (fixed seeded weights): test-time adaptation has something to adapt."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, stride=2), nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(6, 10))  # fmt: skip
    with torch.no_grad():  # source statistics unlike any test batch's, so adapting them shows
        model[1].running_mean.fill_(0.3)
        model[1].running_var.fill_(2.0)
    return model


def tiny_mlp():
    """A torch.nn.Module without BatchNorm: nothing test-time adaptation could adapt."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(10))


def background_classifier():
    """Waterbird (1) when an image's border is bluer than green: a model that learnt the background, not the bird
    (``test_waterbirds``' water backgrounds are blue, its land ones green)."""

    def predict(images):
        out = []
        for image in images:
            border = np.concatenate([image[0], image[-1]]).astype(np.int64)
            out.append(int(border[:, 2].sum() > border[:, 1].sum()))
        return np.array(out)

    return predict


def colour_classifier():
    """Colored MNIST's shortcut: class 1 when the green channel holds the digit (the colour, not the shape)."""
    return lambda images: np.array([int(image[..., 1].sum() > image[..., 0].sum()) for image in images])


def imagenet_scores():
    """1000 ImageNet logits from any image: a fixed pseudo-random ramp rolled by the image's mean level, so every
    label-space rule has an answer and the answer depends on the pixels."""
    ramp = np.random.default_rng(1).random(1000)
    return lambda images: np.stack([np.roll(ramp, int(np.asarray(image).mean() * 3)) for image in images])
