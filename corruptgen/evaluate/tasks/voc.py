"""Pascal VOC detection AP, as the VOC devkit computes it (``VOCevaldet`` / ``voc_eval.py``).

Per class: detections sorted by score; a detection is a true positive when its best-overlapping
ground-truth box of that class in the same image has IoU > 0.5 and was not matched before; a
match with a ``difficult`` object counts as neither true nor false positive, and difficult
objects are not counted in recall. AP is the VOC2007 11-point interpolation (the setting of the
Pascal-C benchmark, on VOC2007 test) or the area under the interpolated precision-recall curve
(VOC2010 on); both are reported, the 11-point one first. The mean runs over the classes with at
least one non-difficult object among the evaluated images (all 20 on VOC2007 test).

Boxes: VOC XML holds 1-based inclusive pixel indices; they are compared as continuous 0-based
boxes ``[xmin - 1, ymin - 1, xmax, ymax]``, the frame a detector returns (torchvision's), so a
detection on exactly the annotated pixels has IoU 1.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from corruptgen.datasets import Sample
from corruptgen.datasets.voc import voc_objects

from ..tree import EvaluationError, Tree
from .base import DetectionTask, check_detections
from .registry import register

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")  # fmt: skip
"""Category ids are positions in this list plus 1 (aeroplane = 1 ... tvmonitor = 20)."""


def voc_ap(recall: np.ndarray, precision: np.ndarray, eleven_point: bool) -> float:
    """AP from a precision-recall curve, as the devkit: 11-point interpolation or area."""
    if eleven_point:
        return float(np.mean([precision[recall >= t].max() if np.any(recall >= t) else 0.0 for t in np.arange(0.0, 1.1, 0.1)]))
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # the precision envelope
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``x1 y1 x2 y2`` box with each of ``boxes`` (continuous coordinates)."""
    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return inter / np.maximum(union, np.finfo(float).eps)


def class_ap(ground_truth: dict, detections: list[tuple], eleven_point: bool) -> float | None:
    """AP of one class. ``ground_truth``: image id -> (boxes N x 4, difficult N bools);
    ``detections``: (image id, score, box). None when the class has no non-difficult object."""
    positives = sum(int((~difficult).sum()) for _, difficult in ground_truth.values())
    if positives == 0:
        return None
    matched = {image: np.zeros(len(boxes), bool) for image, (boxes, _) in ground_truth.items()}
    order = sorted(range(len(detections)), key=lambda i: -detections[i][1])  # stable: ties keep file order
    tp, fp = np.zeros(len(order)), np.zeros(len(order))
    for rank, i in enumerate(order):
        image, _, box = detections[i]
        boxes, difficult = ground_truth.get(image, (np.zeros((0, 4)), np.zeros(0, bool)))
        if len(boxes):
            overlaps = iou(np.asarray(box, float), boxes)
            best = int(np.argmax(overlaps))
            if overlaps[best] > 0.5:
                if difficult[best]:
                    continue
                if not matched[image][best]:
                    matched[image][best] = True
                    tp[rank] = 1
                    continue
        fp[rank] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    recall = tp / positives
    precision = tp / np.maximum(tp + fp, np.finfo(float).eps)
    return voc_ap(recall, precision, eleven_point)


def read_objects(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(category ids, boxes N x 4 in the continuous 0-based frame, difficult flags) of a VOC XML file."""
    try:
        doc = voc_objects(Path(path).read_bytes())
    except (OSError, ET.ParseError) as exc:
        raise EvaluationError(f"ground truth {path} cannot be read ({exc}).") from None
    labels, boxes, difficult = [], [], []
    for obj in doc["objects"]:
        name = obj["name"]
        if name not in VOC_CLASSES:
            raise EvaluationError(f"{path}: object class {name!r} is not one of the 20 VOC classes.")
        if obj["bbox"] is None:
            raise EvaluationError(f"{path}: an object of class {name!r} has no valid bndbox.")
        x1, y1, x2, y2 = obj["bbox"]
        labels.append(VOC_CLASSES.index(name) + 1)
        boxes.append([x1 - 1, y1 - 1, x2, y2])
        difficult.append(bool(obj["difficult"]))
    return np.asarray(labels, int), np.asarray(boxes, float).reshape(-1, 4), np.asarray(difficult, bool)


@register("voc")
class VocTask(DetectionTask):
    """Pascal-C: mean AP50 over the VOC classes, 11-point (VOC2007, the benchmark's) and area."""

    metrics = ("AP50", "AP50 (area)")

    def __init__(self, tree: Tree):
        super().__init__(tree)
        self.truth(None)  # the source's annotations are checked before any model result is read
        self.categories = set(range(1, len(VOC_CLASSES) + 1))

    def load_truth(self, root):
        """Image id -> objects, from the source's XML or a moved tree's (laid out as its outputs)."""
        objects = {}
        for sample in self.tree.samples():
            xml = self.tree.adapter.per_image_file(sample, "Annotations", root)
            objects[self.sample_id(sample)] = read_objects(xml) if root is None or xml.is_file() else None
        return objects

    def sample_id(self, sample: Sample) -> str:
        return self.tree.adapter.image_id(sample)

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        check_detections(payload, ids, self.categories, where)  # COCO's results format, with VOC's image ids
        objects = self.truth(cell)
        ids = [i for i in ids if objects[i] is not None]  # a moved tree lacks the images it could not build
        scores = {}
        for metric, eleven in (("AP50", True), ("AP50 (area)", False)):
            aps = []
            for category in sorted(self.categories):
                truth = {}
                for image in ids:
                    labels, boxes, difficult = objects[image]
                    keep = labels == category
                    truth[image] = (boxes[keep], difficult[keep])
                dets = [(d["image_id"], float(d["score"]), _xyxy(d["bbox"])) for d in payload if d["category_id"] == category]
                ap = class_ap(truth, dets, eleven)
                if ap is not None:
                    aps.append(ap)
            scores[metric] = 100.0 * float(np.mean(aps)) if aps else 0.0
        return scores


def _xyxy(bbox: list[float]) -> list[float]:
    x, y, w, h = bbox
    return [x, y, x + w, y + h]
