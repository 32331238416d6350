"""COCO detection and instance segmentation, scored by pycocotools' COCOeval."""

from __future__ import annotations

import json
from pathlib import Path

from corruptgen.datasets import Sample

from ..tree import EvaluationError, Tree
from .base import DetectionTask, check_detections, quiet
from .registry import register

COCO_IDS = frozenset(range(1, 91))
"""COCO's category id range (80 used): a detector trained on COCO predicts these whatever the ground truth lists."""


@register("coco")
class CocoTask(DetectionTask):
    """COCO AP@[.5:.95] (x100) with pycocotools' COCOeval: ``bbox AP`` (the benchmark's P/mPC/rPC
    metric), ``bbox AP50``, and ``segm AP`` / ``segm AP50`` when the results carry masks."""

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
        quiet(gt.createIndex)
        return gt

    def _ground_truth(self, root: Path | None) -> dict:
        path = self.tree.adapter.instances_file(root)  # a moved tree: its own, image file names as built
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

        detections = check_detections(payload, ids, self.categories, where, masks="segm AP" in self.metrics,
                                      ignored=COCO_IDS)  # a subset's GT (the bundled sample) lists some of COCO's 80
        if not detections:  # nothing detected: AP 0 (pycocotools cannot load an empty list)
            return dict.fromkeys(self.metrics, 0.0)
        gt = self.truth(cell)
        built = set(gt.getImgIds())  # a moved tree lists the images it built (an annotation error skips one)
        detections = [d for d in detections if d["image_id"] in built]
        if not detections:
            return dict.fromkeys(self.metrics, 0.0)
        results = quiet(gt.loadRes, [dict(d) for d in detections])
        scores = {}
        for iou_type in dict.fromkeys(m.split()[0] for m in self.metrics):
            evaluator = COCOeval(gt, results, iou_type)
            evaluator.params.imgIds = [i for i in ids if i in built]
            quiet(evaluator.evaluate)
            quiet(evaluator.accumulate)
            quiet(evaluator.summarize)
            # stats[0] is AP@[.5:.95], stats[1] AP@.5; -1 (no ground truth) counts as 0
            scores[f"{iou_type} AP"] = max(float(evaluator.stats[0]), 0.0) * 100.0
            scores[f"{iou_type} AP50"] = max(float(evaluator.stats[1]), 0.0) * 100.0
        return scores
