"""What every task shares: the :class:`Task` protocol and the checks of results payloads.

Detection is scored by pycocotools' COCOeval (COCO, Cityscapes instances) and by the Pascal VOC
devkit's AP; semantic segmentation by cityscapesscripts; classification by top-1 error.
"""

from __future__ import annotations

import contextlib
import io
import numbers
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np

from corruptgen.datasets import Sample

from ..tree import EvaluationError, Tree


class Task:
    """One dataset kind's scoring, and what a runner does with the model's outputs for it.

    ``metrics`` lists what :meth:`score` returns, primary first; :func:`corruptgen.metrics.higher_is_better`
    says which way each one improves. A runner calls :meth:`new_payload` per cell, :meth:`process`
    per batch (mmengine's ``BaseMetric.process``), :meth:`unreadable` per image it could not read;
    ``evaluate`` calls :meth:`prepare` once and :meth:`score` per cell (``compute_metrics``).
    """

    kind: ClassVar[str]
    metrics: tuple[str, ...]

    def __init__(self, tree: Tree):
        self.tree = tree

    def sample_id(self, sample: Sample) -> int | str:
        """The id results files use for ``sample`` (the build's sample key unless overridden)."""
        return sample.key

    def model_classes(self) -> list | None:
        """The classes a model that wants them (a zero-shot classifier) is given, in the order its scores are
        read: items with a ``name`` (and ``in1k``, where they are ImageNet's); None where the task has none."""
        return None

    def new_payload(self):
        """An empty results payload of one cell."""
        raise NotImplementedError

    def process(self, payload, batch: list[tuple[Sample, np.ndarray]], outputs, where: str, files: Path) -> None:
        """Add the model's ``outputs`` for ``batch`` (``(sample, RGB pixels)`` pairs) to ``payload``;
        ``files`` is the folder beside the cell's results file, for what does not fit in JSON."""
        raise NotImplementedError

    def unreadable(self, payload, sample: Sample) -> None:
        """What an image that could not be read counts as (nothing, unless the task says)."""

    @classmethod
    def claims(cls, payload) -> bool:
        """Whether a results payload written by another tool is this task's (when run.json is absent)."""
        return False

    def prepare(self, payloads: dict) -> None:
        """Look at every cell's payload once before scoring (e.g. to decide on mask AP)."""

    def truth(self, cell):
        """The ground truth ``cell`` is scored against: the source's, or, where its corruption moved
        the annotations, the built tree's own (read once per root)."""
        root = self.tree.moved_root(cell)
        cache = self.__dict__.setdefault("_truths", {})
        if root not in cache:
            cache[root] = self.load_truth(root)
        return cache[root]

    def load_truth(self, root: Path | None):
        """Ground truth from the source (``root`` None) or from a moved tree laid out like the source."""
        raise NotImplementedError

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        raise NotImplementedError


def model_array(value, where: str, dtype=float) -> np.ndarray:
    """A model's output as an array (NumPy arrays, lists and CPU torch tensors are accepted)."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise EvaluationError(f"{where} is not numeric ({type(value).__name__}).") from None


def keyed_payload(payload, field: str, ids: list, where: str, what: str) -> dict:
    """``payload[field]``, a mapping from sample key to ``what``, with an entry for every id."""
    mapping = payload.get(field) if isinstance(payload, dict) else None
    if not isinstance(mapping, dict):
        raise EvaluationError(f"{where} must hold {{\"{field}\": {{key: {what}}}}}.")
    missing = [k for k in ids if k not in mapping]
    if missing:
        raise EvaluationError(f"{where} has no {what} for {missing[0]!r} ({len(missing)} missing).")
    return mapping


def check_detections(payload, ids: list, categories: set, where: str, masks: bool = False,
                     ignored: Collection[int] = ()) -> list[dict]:  # fmt: skip
    """A COCO results list whose entries name known images and categories and hold valid boxes
    (and masks when ``masks``); EvaluationError naming the entry otherwise. Entries of a category in ``ignored``
    but not in ``categories`` (a COCO category the ground truth does not list) are left out, as COCOeval
    leaves them out of every AP."""
    if not isinstance(payload, list):
        raise EvaluationError(f"{where} must hold a COCO results list of {{image_id, category_id, bbox, score}}; got {type(payload).__name__}.")
    known = set(ids)
    for n, det in enumerate(payload):
        if not isinstance(det, dict) or not {"image_id", "category_id", "bbox", "score"} <= det.keys():
            raise EvaluationError(f"{where}: entry {n} lacks image_id, category_id, bbox or score.")
        if det["image_id"] not in known:
            raise EvaluationError(f"{where}: entry {n} names image id {det['image_id']!r}, which the ground truth "
                                  "(or the evaluated subset) does not have.")  # fmt: skip
        if det["category_id"] not in categories and det["category_id"] not in ignored:
            raise EvaluationError(f"{where}: entry {n} names category id {det['category_id']!r}; the ground truth has "
                                  f"{sorted(categories)}.")  # fmt: skip
        box = det["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, numbers.Real) for v in box)):
            raise EvaluationError(f"{where}: entry {n} has bbox {box!r}; expected [x, y, width, height].")
        if masks and "segmentation" not in det:
            raise EvaluationError(f"{where}: entry {n} has no 'segmentation' while other cells carry masks.")
    return [det for det in payload if det["category_id"] in categories] if ignored else payload


def quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def detections_to_coco(image_id, output, shape: tuple[int, int], where: str) -> list[dict]:
    """One image's detector output -> COCO results entries (bbox x y w h; masks as RLE)."""
    if not isinstance(output, Mapping) or not {"boxes", "scores", "labels"} <= set(output):
        raise EvaluationError(f"{where} returned {type(output).__name__}; a detector returns per image a mapping with boxes, scores and labels.")
    boxes = model_array(output["boxes"], f"{where} boxes")
    scores = model_array(output["scores"], f"{where} scores")
    labels = model_array(output["labels"], f"{where} labels")
    n = len(scores)
    if boxes.size == 0 and n == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.shape != (n, 4) or scores.shape != (n,) or labels.shape != (n,):
        raise EvaluationError(f"{where} returned boxes {boxes.shape}, scores {scores.shape}, labels {labels.shape}; "
                              "expected N x 4, N and N.")  # fmt: skip
    if not np.all(np.isfinite(boxes)) or not np.all(np.isfinite(scores)) or np.any(labels != np.round(labels)):
        raise EvaluationError(f"{where} returned non-finite boxes or scores, or non-integer labels.")
    rles = None
    if output.get("masks") is not None:
        from pycocotools import mask as mask_utils

        masks = model_array(output["masks"], f"{where} masks")
        if masks.ndim == 4 and masks.shape[1] == 1:  # torchvision's N x 1 x H x W
            masks = masks[:, 0]
        if masks.shape != (n, *shape):
            raise EvaluationError(f"{where} returned masks {masks.shape}; expected {(n, *shape)} (N x H x W).")
        rles = mask_utils.encode(np.asfortranarray((masks > 0.5).astype(np.uint8).transpose(1, 2, 0))) if n else []
    entries = []
    for i in range(n):
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        entry = {"image_id": image_id, "category_id": int(labels[i]), "bbox": [round(x1, 2), round(y1, 2),
                 round(x2 - x1, 2), round(y2 - y1, 2)], "score": round(float(scores[i]), 5)}  # fmt: skip
        if rles is not None:
            entry["segmentation"] = {"size": rles[i]["size"], "counts": rles[i]["counts"].decode("ascii")}
        entries.append(entry)
    return entries


class DetectionTask(Task):
    """Detectors' outputs as one COCO results list per cell (the payload of COCO, VOC and Cityscapes
    instances alike); subclasses score it."""

    kind = "detection"

    def new_payload(self) -> list[dict]:
        return []

    def process(self, payload, batch, outputs, where, files):
        outputs = list(outputs) if not isinstance(outputs, Mapping) else outputs
        if isinstance(outputs, Mapping) or len(outputs) != len(batch):
            raise EvaluationError(f"{where} returned {type(outputs).__name__}; a detector returns one mapping per image "
                                  f"({len(batch)} for this batch).")  # fmt: skip
        for (sample, pixels), output in zip(batch, outputs):
            payload.extend(detections_to_coco(self.sample_id(sample), output, pixels.shape[:2], where))
