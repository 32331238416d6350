"""What is scored per dataset kind: the ground truth, each sample's id in results files, and the
score of one cell's results file.

Detection is scored by pycocotools' COCOeval (COCO, Cityscapes instances) and by the Pascal
VOC devkit's AP (in :mod:`.voc`); classification by top-1 error.
"""

from __future__ import annotations

import contextlib
import io
import json
import numbers
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np
from PIL import Image

from corruptgen.datasets import Sample

from .tree import EvaluationError, Tree

CITYSCAPES_INSTANCE_CLASSES = {24: "person", 25: "rider", 26: "car", 27: "truck", 28: "bus", 31: "train",
                               32: "motorcycle", 33: "bicycle"}  # fmt: skip
"""The 8 Cityscapes classes with instances that the detection benchmark evaluates (label ids of
cityscapesscripts' ``helpers/labels.py``; caravan and trailer are ignored in evaluation)."""


class Task:
    """One dataset kind's scoring. ``metrics`` lists what :meth:`score` returns, primary first."""

    kind: ClassVar[str]
    metrics: tuple[str, ...]

    def __init__(self, tree: Tree):
        self.tree = tree

    def sample_id(self, sample: Sample) -> int | str:
        """The id results files use for ``sample`` (the build's sample key unless overridden)."""
        return sample.key

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


def keyed_payload(payload, field: str, ids: list, where: str, what: str) -> dict:
    """``payload[field]``, a mapping from sample key to ``what``, with an entry for every id."""
    mapping = payload.get(field) if isinstance(payload, dict) else None
    if not isinstance(mapping, dict):
        raise EvaluationError(f"{where} must hold {{\"{field}\": {{key: {what}}}}}.")
    missing = [k for k in ids if k not in mapping]
    if missing:
        raise EvaluationError(f"{where} has no {what} for {missing[0]!r} ({len(missing)} missing).")
    return mapping


def check_detections(payload, ids: list, categories: set, where: str, masks: bool = False) -> list[dict]:
    """A COCO results list whose entries name known images and categories and hold valid boxes
    (and masks when ``masks``); EvaluationError naming the entry otherwise."""
    if not isinstance(payload, list):
        raise EvaluationError(f"{where} must hold a COCO results list of {{image_id, category_id, bbox, score}}; got {type(payload).__name__}.")
    known = set(ids)
    for n, det in enumerate(payload):
        if not isinstance(det, dict) or not {"image_id", "category_id", "bbox", "score"} <= det.keys():
            raise EvaluationError(f"{where}: entry {n} lacks image_id, category_id, bbox or score.")
        if det["image_id"] not in known:
            raise EvaluationError(f"{where}: entry {n} names image id {det['image_id']!r}, which the ground truth "
                                  "(or the evaluated subset) does not have.")  # fmt: skip
        if det["category_id"] not in categories:
            raise EvaluationError(f"{where}: entry {n} names category id {det['category_id']!r}; the ground truth has "
                                  f"{sorted(categories)}.")  # fmt: skip
        box = det["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, numbers.Real) for v in box)):
            raise EvaluationError(f"{where}: entry {n} has bbox {box!r}; expected [x, y, width, height].")
        if masks and "segmentation" not in det:
            raise EvaluationError(f"{where}: entry {n} has no 'segmentation' while other cells carry masks.")
    return payload


def cityscapes_frame(key: str) -> str:
    """``leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png`` -> ``frankfurt_000000_000294``."""
    return PurePosixPath(key).name.split("_leftImg8bit")[0]


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


class CocoTask(Task):
    """COCO AP@[.5:.95] (x100) with pycocotools' COCOeval: ``bbox AP`` (the benchmark's P/mPC/rPC
    metric), ``bbox AP50``, and ``segm AP`` / ``segm AP50`` when the results carry masks."""

    kind = "detection"

    def __init__(self, tree: Tree):
        super().__init__(tree)

        self.gt = self.truth(None)
        self.id_by_key = self._ids()
        self.categories = set(self.gt.getCatIds())
        self.metrics = ("bbox AP", "bbox AP50")

    def load_truth(self, root):
        from pycocotools.coco import COCO

        gt = COCO()
        gt.dataset = self._ground_truth(root)
        _quiet(gt.createIndex)
        return gt

    def _ground_truth(self, root: Path | None) -> dict:
        path = self.tree.adapter.annotation_file
        if root is not None:  # a moved tree: its own annotation file, image file names as built
            path = root / "annotations" / path.name
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EvaluationError(f"ground truth {path} cannot be read ({exc}).") from None
        if root is not None:  # file names as the source has them, so results' image ids line up
            names = {str(img["id"]): img for img in self.gt.dataset["images"]}
            for img in doc.get("images", []):
                img["file_name"] = names.get(str(img.get("id")), img)["file_name"]
        return doc

    def _ids(self) -> dict[str, int | str]:
        return {str(img["file_name"]): img["id"] for img in self.gt.dataset["images"]}

    def sample_id(self, sample: Sample):
        return self.id_by_key[sample.key]

    def prepare(self, payloads: dict) -> None:
        with_masks = any(isinstance(p, list) and any(isinstance(d, dict) and "segmentation" in d for d in p) for p in payloads.values())
        self.metrics = ("bbox AP", "bbox AP50") + (("segm AP", "segm AP50") if with_masks else ())

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        from pycocotools.cocoeval import COCOeval

        detections = check_detections(payload, ids, self.categories, where, masks="segm AP" in self.metrics)
        if not detections:  # nothing detected: AP 0 (pycocotools cannot load an empty list)
            return dict.fromkeys(self.metrics, 0.0)
        gt = self.truth(cell)
        built = set(gt.getImgIds())  # a moved tree lists the images it built (an annotation error skips one)
        detections = [d for d in detections if d["image_id"] in built]
        if not detections:
            return dict.fromkeys(self.metrics, 0.0)
        results = _quiet(gt.loadRes, [dict(d) for d in detections])
        scores = {}
        for iou_type in dict.fromkeys(m.split()[0] for m in self.metrics):
            evaluator = COCOeval(gt, results, iou_type)
            evaluator.params.imgIds = [i for i in ids if i in built]
            _quiet(evaluator.evaluate)
            _quiet(evaluator.accumulate)
            _quiet(evaluator.summarize)
            # stats[0] is AP@[.5:.95], stats[1] AP@.5; -1 (no ground truth) counts as 0
            scores[f"{iou_type} AP"] = max(float(evaluator.stats[0]), 0.0) * 100.0
            scores[f"{iou_type} AP50"] = max(float(evaluator.stats[1]), 0.0) * 100.0
        return scores


class CityscapesTask(CocoTask):
    """Cityscapes instance detection/segmentation COCO-style, as the detection-robustness benchmark
    scores it: ground truth from gtFine ``*_instanceIds.png`` (ids ``label * 1000 + k``), the 8
    instance classes, group regions (ids below 1000) as crowd; image ids are the frame names
    (``frankfurt_000000_000294``)."""

    def _ground_truth(self, root: Path | None) -> dict:
        from pycocotools import mask as mask_utils

        adapter = self.tree.adapter
        images, annotations = [], []
        for sample in self.tree.samples():
            stem = cityscapes_frame(sample.key)
            city = PurePosixPath(sample.key).parent.name
            path = (root or adapter.src) / "gtFine" / adapter.split / city / f"{stem}_gtFine_instanceIds.png"
            try:
                with Image.open(path) as img:
                    ids = np.asarray(img).astype(np.int64)
            except OSError as exc:
                raise EvaluationError(f"ground truth {path} cannot be read ({exc}); Cityscapes needs gtFine/<split>/<city>/.") from None
            images.append({"id": stem, "file_name": sample.key, "height": ids.shape[0], "width": ids.shape[1]})
            for value in np.unique(ids):
                label = value // 1000 if value >= 1000 else value
                if label not in CITYSCAPES_INSTANCE_CLASSES:
                    continue
                rle = mask_utils.encode(np.asfortranarray((ids == value).astype(np.uint8)))
                x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
                rle["counts"] = rle["counts"].decode("ascii")
                annotations.append({"id": len(annotations) + 1, "image_id": stem, "category_id": int(label),
                                    "segmentation": rle, "area": float(mask_utils.area(rle)), "bbox": [x, y, w, h],
                                    "iscrowd": int(value < 1000)})  # fmt: skip
        categories = [{"id": i, "name": name} for i, name in CITYSCAPES_INSTANCE_CLASSES.items()]
        return {"images": images, "annotations": annotations, "categories": categories}


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


def task_for(tree: Tree, kind: str | None = None) -> Task:
    """The dataset's task; ``kind="segmentation"`` picks Cityscapes' semantic segmentation over
    its instance detection."""
    from .cityscapes_semantic import CityscapesSemanticTask
    from .voc import VocTask

    if kind == "segmentation" and tree.dataset == "cityscapes":
        return CityscapesSemanticTask(tree)
    kinds = {"coco": CocoTask, "cityscapes": CityscapesTask, "voc": VocTask,
             "imagenet": ClassificationTask, "mnist": ClassificationTask, "folder": ClassificationTask}  # fmt: skip
    return kinds[tree.dataset](tree)
