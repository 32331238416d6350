"""Classification: top-1 error against the labels the source holds."""

from __future__ import annotations

import numpy as np

from ..tree import EvaluationError, Tree
from .base import Task, keyed_payload, model_array
from .registry import register


@register("imagenet", "mnist", "cifar10", "cifar100", "folder")
class ClassificationTask(Task):
    """Top-1 error (%) against the labels the source holds: ImageNet's class folders (index = the
    wnid's position in sorted order, as torchvision's ImageFolder), MNIST's label files, a folder
    tree's top-level folders."""

    kind = "classification"
    metrics = ("top-1 error",)

    def __init__(self, tree: Tree):
        super().__init__(tree)
        adapter = tree.adapter
        self.labels = {}
        for sample in tree.samples():  # the same class indices a WebDataset build writes as .cls
            label = adapter.label(sample)
            if label is None:
                raise EvaluationError(f"{sample.key} is not inside a class folder; classification of a folder build "
                                      "needs <class>/<image> (as torchvision's ImageFolder).")  # fmt: skip
            self.labels[sample.key] = label

    def model_classes(self) -> list:
        """ImageNet's 1000 classes; CIFAR's names from its release; a folder tree's class folders; MNIST's digits."""
        return self.tree.adapter.class_list()

    def new_payload(self) -> dict:
        return {"predictions": {}}

    def process(self, payload, batch, outputs, where, files):
        """``outputs``: N class indices, or N x C class scores (logits, probabilities) whose argmax is the
        prediction (the first of tied classes, as ``torch.argmax``), so one model serves -C trees and
        perturbation sequences (which need the scores for T5D)."""
        values = model_array(outputs, f"{where} predictions")
        if values.ndim == 2 and len(values) == len(batch) and values.shape[1] > 1:
            values = np.argmax(values, axis=1)
        elif values.shape != (len(batch),) or np.any(values != np.round(values)):
            raise EvaluationError(f"{where} returned predictions of shape {values.shape}; a classifier returns "
                                  f"{len(batch)} class indices (ints), or a {len(batch)} x classes matrix of scores, "
                                  f"for a batch of {len(batch)}.")  # fmt: skip
        for (sample, _), value in zip(batch, values):
            payload["predictions"][self.sample_id(sample)] = int(value)

    def unreadable(self, payload, sample):
        payload["predictions"][self.sample_id(sample)] = -1  # counted as an error, never silently dropped

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        predictions = keyed_payload(payload, "predictions", ids, where, "class index")
        extra = [k for k in predictions if k not in self.labels]
        if extra:
            raise EvaluationError(f"{where} predicts for {extra[0]!r}, which is not an image of the dataset.")
        wrong = 0
        for key in ids:
            value = predictions[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise EvaluationError(f"{where}: the prediction for {key!r} is {value!r}; expected a class index (int).")
            wrong += value != self.labels[key]
        return {"top-1 error": 100.0 * wrong / len(ids)}
