"""Cityscapes semantic segmentation, scored by cityscapesscripts' own pixel-level evaluation
(``evalPixelLevelSemanticLabeling.evaluateImgLists``): class mIoU and iIoU over its 19 classes,
as the segmentation-robustness benchmark (Kamann and Rother) reports them.

Results cells are ``{"segmentation": {key: path}}``, each path a labelIds PNG (H x W, Cityscapes
label ids 0-33, the same size as the image) relative to the cell file's folder.
"""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from .tasks import Task, cityscapes_frame, keyed_payload
from .tree import EvaluationError, Tree


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
        paths = {}
        for sample in self.tree.samples():
            frame = cityscapes_frame(sample.key)
            city = PurePosixPath(sample.key).parent.name
            paths[sample.key] = (root or adapter.src) / "gtFine" / adapter.split / city / f"{frame}_gtFine_labelIds.png"
        return paths

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
