"""The classifier factory for ``corruptgen classify --model examples.fashion_mnist.model:load``.

Reads the weights ``train.py`` wrote (path in ``FASHION_MNIST_WEIGHTS``) and classifies the RGB
uint8 images corruptgen feeds it (the digits' grey level is the mean of the three channels).
"""

from __future__ import annotations

import os

import numpy as np


def load_scores():
    """The class scores (logits, N x 10): what ImageNet-P's top-5 distance needs of each frame."""
    weights = np.load(os.environ.get("FASHION_MNIST_WEIGHTS", "fashion-mnist-mlp.npz"))

    def pixels(images: list[np.ndarray]) -> np.ndarray:
        return np.stack([im.mean(axis=2) for im in images]).reshape(len(images), -1).astype(np.float32) / 255

    if "w" in weights.files:  # train.py --linear: softmax regression
        w, b = weights["w"], weights["b"]
        return lambda images: pixels(images) @ w + b
    w1, b1, w2, b2 = (weights[k] for k in ("w1", "b1", "w2", "b2"))
    return lambda images: np.maximum(pixels(images) @ w1 + b1, 0) @ w2 + b2


def load():
    """The class index of each image (the argmax of :func:`load_scores`)."""
    scores = load_scores()
    return lambda images: np.argmax(scores(images), axis=1)
