"""Natural distribution shifts: top-1 / top-5 accuracy over a test set's label space, under a named rule.

The model's 1000-way ImageNet scores become the space's classes by the rule the published numbers use
(:mod:`corruptgen.labels`: ``mask`` for ImageNet-R/A/O, ``maxpool`` for ObjectNet, ``full`` for the
1000-class sets), or the one ``classify --rule`` names; the rule and the space are recorded with every
results file. A cell's payload keeps each image's five best classes (top-1 is the first) and, where the
model gave scores, its maximum softmax probability (ImageNet-O's anomaly score is its negative).
"""

from __future__ import annotations

import numpy as np

from corruptgen.datasets import NATURAL_SHIFTS
from corruptgen.labels import LabelError, LabelSpace, check_rule, label_space, max_softmax, softmax_max, top_classes

from ..tree import EvaluationError, Tree
from .base import Task, keyed_payload, model_array
from .registry import register


def space_of(tree: Tree) -> LabelSpace:
    """The label space a tree is scored in: its ``classes_of`` (ImageNet restricted to a shift's classes),
    the test set's own, or ImageNet-1k."""
    name = tree.identity.get("classes_of") or tree.identity.get("label_space")
    if name is None and tree.dataset in NATURAL_SHIFTS:
        name = NATURAL_SHIFTS[tree.dataset].space_name
    return label_space(name or "imagenet-1k")


def rule_of(tree: Tree) -> str:
    """The rule recorded with the tree, else the space's default (what its published numbers use)."""
    return check_rule(tree.identity.get("rule") or space_of(tree).default_rule)


@register(*NATURAL_SHIFTS, "imagenet")
class ShiftTask(Task):
    """Top-1 and top-5 accuracy (%) of a test set's images in its label space, under the tree's rule."""

    kind = "shift"
    metrics = ("top-1 accuracy", "top-5 accuracy")

    def __init__(self, tree: Tree):
        super().__init__(tree)
        self.space, self.rule = space_of(tree), rule_of(tree)
        adapter = tree.adapter
        self.targets = {}
        for sample in tree.samples():
            target = adapter.label(sample)
            if target is None:
                raise EvaluationError(f"{sample.key} is in no class of the {self.space.name} label space.")
            self.targets[sample.key] = int(target)

    def model_classes(self) -> list:
        return list(self.space.classes)

    def new_payload(self) -> dict:
        return {"rule": self.rule, "label_space": self.space.name, "top5": {}, "msp": {}}

    def process(self, payload, batch, outputs, where, files):
        values = model_array(outputs, f"{where} outputs")
        if len(values) != len(batch):
            raise EvaluationError(f"{where} returned {len(values)} outputs for a batch of {len(batch)} images.")
        try:
            if values.ndim == 2 and values.shape[1] == len(self.space.classes) != 1000:
                # a zero-shot head over the space's own classes (CLIP_benchmark's way): ranked as they are
                top = np.argsort(-values, axis=1, kind="stable")[:, :5]
                msp = softmax_max(values)
                payload["head"] = "label space"
            else:
                top = top_classes(values, self.space, self.rule, 5)
                msp = max_softmax(values, self.space, self.rule) if values.ndim == 2 else None
        except LabelError as exc:
            raise EvaluationError(f"{where}: {exc}") from None
        for i, (sample, _) in enumerate(batch):
            key = self.sample_id(sample)
            payload["top5"][key] = [int(v) for v in top[i]]
            if msp is not None:
                payload["msp"][key] = float(msp[i])

    def unreadable(self, payload, sample):
        payload["top5"][self.sample_id(sample)] = []  # counted wrong, never dropped

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        top5 = keyed_payload(payload, "top5", ids, where, "list of classes")
        if payload.get("rule") != self.rule or payload.get("label_space") != self.space.name:
            raise EvaluationError(f"{where} was scored under rule {payload.get('rule')!r} in {payload.get('label_space')!r}; "
                                  f"this tree is scored under {self.rule!r} in {self.space.name!r}: rerun classify.")  # fmt: skip
        out = {"top-1 accuracy": 100.0 * self.correct(payload, ids) / len(ids)}
        if all(len(top5[k]) >= 5 or not top5[k] for k in ids) and any(top5[k] for k in ids):
            out["top-5 accuracy"] = 100.0 * sum(self.targets[k] in top5[k][:5] for k in ids) / len(ids)
        return out

    def correct(self, payload, ids: list) -> int:
        """How many of ``ids`` are right at top-1 (for the accuracy's interval)."""
        return sum(bool(payload["top5"].get(k)) and payload["top5"][k][0] == self.targets[k] for k in ids)
