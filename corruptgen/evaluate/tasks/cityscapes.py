"""Cityscapes: instance detection and segmentation COCO-style (pycocotools), and semantic segmentation
scored by cityscapesscripts' own pixel-level evaluation (``evalPixelLevelSemanticLabeling.evaluateImgLists``):
class mIoU and iIoU over its 19 classes, as the segmentation-robustness benchmark (Kamann and Rother)
reports them.

Semantic results cells are ``{"segmentation": {key: path}}``, each path a labelIds PNG (H x W,
Cityscapes label ids 0-33, the same size as the image) relative to the cell file's folder.
"""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path

import numpy as np
from PIL import Image

from corruptgen.files import atomic_write

from ..tree import EvaluationError, Tree
from .base import Task, keyed_payload, model_array
from .coco import CocoTask
from .registry import register

CITYSCAPES_INSTANCE_CLASSES = {24: "person", 25: "rider", 26: "car", 27: "truck", 28: "bus", 31: "train",
                               32: "motorcycle", 33: "bicycle"}  # fmt: skip
"""The 8 Cityscapes classes with instances that the detection benchmark evaluates (label ids of
cityscapesscripts' ``helpers/labels.py``; caravan and trailer are ignored in evaluation)."""


@register("cityscapes")
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
            stem = adapter.frame(sample)
            path = adapter.ground_truth_file(sample, "instanceIds.png", root)
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


def _label_map(output, shape: tuple[int, int], where: str) -> np.ndarray:
    values = model_array(output, f"{where} label map")
    if values.shape != shape or np.any(values != np.round(values)) or values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise EvaluationError(f"{where} returned a label map of shape {values.shape}; a segmenter returns per image an "
                              f"H x W map of label ids 0-255 ({shape}).")  # fmt: skip
    return values.astype(np.uint8)


class _NumpyWithIn1d:
    """NumPy as cityscapesscripts 2.3.0 expects it: it calls ``np.in1d``, which NumPy 2.4 removed
    (``np.isin`` flattened is the same). Given to that module only; NumPy itself is untouched."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def in1d(a, b, invert=False):
        return np.isin(np.ravel(a), b, invert=invert)


def pixel_level(predictions: list[str], ground_truth: list[str]) -> dict:
    """cityscapesscripts' evaluation of prediction/ground-truth labelIds PNG pairs (quiet, no files)."""
    try:
        from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official
    except ImportError:
        raise EvaluationError("scoring semantic segmentation needs cityscapesscripts: pip install 'corruptgen[cityscapes]'.") from None
    if not hasattr(np, "in1d"):
        official.np = _NumpyWithIn1d()
    args = copy.copy(official.args)
    args.quiet, args.JSONOutput, args.colorized, args.evalPixelAccuracy = True, False, False, False
    args.bold = args.nocol = ""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            return official.evaluateImgLists(predictions, ground_truth, args)
    except SystemExit:  # cityscapesscripts reports problems by printing and exiting
        raise EvaluationError(f"cityscapesscripts refused the label maps: {printed.getvalue().strip().splitlines()[-1]}") from None


@register("cityscapes")
class CityscapesSemanticTask(Task):
    """mIoU and iIoU (x100) of labelIds maps against gtFine ``*_gtFine_labelIds.png``."""

    kind = "segmentation"
    metrics = ("mIoU", "iIoU")

    def __init__(self, tree: Tree):
        super().__init__(tree)
        if not any(self._has_instances(path) for path in self.truth(None).values()):
            self.metrics = ("mIoU",)  # iIoU is undefined without a single instance in the ground truth

    def load_truth(self, root):
        """Sample key -> its ``labelIds.png``, in the source or in a moved tree."""
        adapter = self.tree.adapter
        return {sample.key: adapter.ground_truth_file(sample, "labelIds.png", root) for sample in self.tree.samples()}

    def new_payload(self) -> dict:
        return {"segmentation": {}}

    def process(self, payload, batch, outputs, where, files):
        """Each label map as ``<frame>_labelIds.png`` beside the cell file (the name cityscapesscripts
        looks for), its path relative to the cell file's folder in the payload."""
        outputs = list(outputs)
        if len(outputs) != len(batch):
            raise EvaluationError(f"{where} returned {len(outputs)} label maps for a batch of {len(batch)} images.")
        for (sample, pixels), output in zip(batch, outputs):
            name = f"{self.tree.adapter.frame(sample)}_labelIds.png"
            encoded = io.BytesIO()
            Image.fromarray(_label_map(output, pixels.shape[:2], where), "L").save(encoded, format="PNG")
            atomic_write(files / name, encoded.getvalue())
            payload["segmentation"][self.sample_id(sample)] = f"{files.name}/{name}"

    @classmethod
    def claims(cls, payload) -> bool:
        return isinstance(payload, dict) and "segmentation" in payload

    @staticmethod
    def _has_instances(labels: Path) -> bool:
        try:
            with Image.open(str(labels).replace("labelIds", "instanceIds")) as img:
                return bool((np.asarray(img) >= 1000).any())
        except OSError:
            return False

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        maps = keyed_payload(payload, "segmentation", ids, where, "label map")
        ground_truth = self.truth(cell)
        predictions, truths = [], []
        for key in ids:
            path = Path(where).parent / str(maps[key])
            truth = ground_truth[key]
            try:
                with Image.open(path) as pred, Image.open(truth) as gt:
                    if pred.size != gt.size or pred.mode not in ("L", "P", "I", "I;16"):
                        raise EvaluationError(f"{path} is {pred.mode} {pred.size}; expected a single-channel label map of "
                                              f"size {gt.size} like {truth.name}.")  # fmt: skip
            except OSError as exc:
                raise EvaluationError(f"{where}: label map {path} cannot be read ({exc}).") from None
            predictions.append(str(path))
            truths.append(str(truth))
        result = pixel_level(predictions, truths)
        scores = {"mIoU": 100.0 * result["averageScoreClasses"], "iIoU": 100.0 * result["averageScoreInstClasses"]}
        return {m: scores[m] for m in self.metrics}
