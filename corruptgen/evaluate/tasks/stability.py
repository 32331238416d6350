"""Stability under perturbation sequences (ImageNet-P, CIFAR-10-P): flip probability and top-5 distance.

The runner feeds every frame of a sequence to the classifier (the same interface as ``classify``);
a cell's payload keeps, per sequence, each frame's prediction and, when the model returns scores
(N x classes) rather than class indices, each frame's five top classes: what T5D needs of a
frame (:func:`corruptgen.metrics.top5_list_distance`). Scored exactly as ``ImageNet-P/test.py``:
noise sequences against frame 0, the others frame to frame.
"""

from __future__ import annotations

import numpy as np

from corruptgen import metrics
from corruptgen.corruptions.sequences import get_sequence

from ..tree import EvaluationError
from .base import Task, keyed_payload, model_array
from .registry import register


@register("imagenet", "mnist", "cifar10", "cifar100", "folder")
class StabilityTask(Task):
    """FP (percent) and, where the model gave scores, T5D of each perturbation cell."""

    kind = "stability"
    metrics = ("flip probability", "top-5 distance")
    sequences = True
    stride = 1
    """``test.py --difficulty``'s step between the frames compared in a non-noise sequence (1: consecutive)."""

    def new_payload(self) -> dict:
        return {"predictions": {}, "top5": {}}

    def process(self, payload, batch, outputs, where, files):
        """``batch``: ``(sample, frames)`` pairs; ``outputs``: the model's, one per frame of them all, in order."""
        values = model_array(outputs, f"{where} outputs")
        frames = sum(len(f) for _, f in batch)
        if values.ndim not in (1, 2) or len(values) != frames:
            raise EvaluationError(f"{where} returned outputs of shape {values.shape} for {frames} frames; a classifier "
                                  "returns one class index per frame, or one row of class scores per frame.")  # fmt: skip
        if values.ndim == 1 and np.any(values != np.round(values)):
            raise EvaluationError(f"{where} returned non-integer class indices.")
        start = 0
        for sample, sequence in batch:
            part = values[start : start + len(sequence)]
            start += len(sequence)
            key = self.sample_id(sample)
            if part.ndim == 2:
                payload["top5"][key] = metrics.top5_of(part).tolist()
                part = np.argmax(part, axis=1)  # the first of tied classes, as argmax in test.py
            payload["predictions"][key] = [int(v) for v in part]

    def unreadable(self, payload, sample):
        payload.setdefault("unreadable", []).append(self.sample_id(sample))

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        if cell is None:
            raise EvaluationError(f"{where}: a perturbation build has no clean cell; its first frames are the reference.")
        unreadable = set(payload.get("unreadable", [])) if isinstance(payload, dict) else set()
        kept = [k for k in ids if k not in unreadable]
        if not kept:
            raise EvaluationError(f"{where}: no sequence of this perturbation could be read.")
        predictions = keyed_payload(payload, "predictions", kept, where, "frame predictions")
        counts = {len(predictions[k]) for k in kept}
        if len(counts) != 1:
            raise EvaluationError(f"{where}: sequences have {sorted(counts)} frames; one perturbation's have one length.")
        noise = get_sequence(cell[0]).noise
        step = 1 if noise else self.stride
        result = {"flip probability": metrics.flip_probability([predictions[k] for k in kept], noise, step)}
        top5 = payload.get("top5") or {}
        if all(k in top5 for k in kept):
            result["top-5 distance"] = metrics.top5_list_distance([top5[k] for k in kept], noise, step)
        return result
