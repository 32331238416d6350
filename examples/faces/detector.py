"""The detector factory for ``corruptgen detect --model examples.faces.detector:load``.

scikit-image's pretrained LBP frontal-face cascade (``skimage.feature.Cascade``). Its own
grouping returns no confidence, so the raw windows are kept (``min_neighbor_number=1`` and no
merging) and grouped here: windows overlapping the strongest remaining one by IoU > 0.3 form a
detection, its box their mean and its score their number (Viola-Jones' neighbour count).
"""

from __future__ import annotations

import numpy as np

from corruptgen.evaluate.tasks.voc import iou


def group(windows: np.ndarray, overlap: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Greedy grouping of raw windows (x1 y1 x2 y2): mean boxes and member counts, by count."""
    boxes, scores = [], []
    left = np.arange(len(windows))
    while len(left):
        # seed each group with the window that has the most overlapping neighbours
        counts = np.array([(iou(windows[i], windows[left]) > overlap).sum() for i in left])
        seed = left[int(np.argmax(counts))]
        members = left[iou(windows[seed], windows[left]) > overlap]
        boxes.append(windows[members].mean(axis=0))
        scores.append(float(len(members)))
        left = np.setdiff1d(left, members)
    return np.array(boxes).reshape(-1, 4), np.array(scores)


def load():
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.feature import Cascade

    cascade = Cascade(data.lbp_frontal_face_cascade_filename())

    def detect(images: list[np.ndarray]) -> list[dict]:
        outputs = []
        for image in images:
            raw = cascade.detect_multi_scale(img=rgb2gray(image), scale_factor=1.15, step_ratio=1, min_size=(24, 24),
                                             max_size=(160, 160), min_neighbor_number=1, intersection_score_threshold=1.01)  # fmt: skip
            windows = np.array([[d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]] for d in raw], float).reshape(-1, 4)
            boxes, scores = group(windows)
            keep = scores >= 2  # a lone window is noise
            outputs.append({"boxes": boxes[keep], "scores": scores[keep], "labels": np.ones(int(keep.sum()), int)})
        return outputs

    return detect
