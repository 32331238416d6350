"""Datasets with groups (Waterbirds, CelebA, Colored MNIST): accuracy per group, the average and the worst group.

The model's predictions (class indices, or scores whose argmax is one) are scored as WILDS' ``standard_group_eval``
scores them (:func:`corruptgen.metrics.group_accuracy`): ``acc_avg`` over every image, ``acc_<group>`` and
``count_<group>`` per group (WILDS' names: ``y:waterbird_background:land``), ``acc_wg`` the lowest accuracy of the
groups with at least one image, and ``adj_acc_avg`` the group accuracies weighted by the groups' sizes in the training
split (group DRO's reported Waterbirds average).
"""

from __future__ import annotations

import numpy as np

from corruptgen import metrics
from corruptgen.datasets import GROUPED_SETS

from ..tree import EvaluationError, Tree
from .classification import ClassificationTask
from .registry import register

WILDS_KEYS = {"average accuracy": "acc_avg", "worst-group accuracy": "acc_wg", "adjusted average accuracy": "adj_acc_avg"}
"""Each metric's key in WILDS' results (and in ``results.json``'s ``groups``)."""


@register(*GROUPED_SETS)
class GroupedTask(ClassificationTask):
    """Accuracy (%) per group and over the groups; the payload is classification's (a class index per image)."""

    kind = "grouped"
    metrics = ("average accuracy", "worst-group accuracy", "adjusted average accuracy")

    def __init__(self, tree: Tree):
        super().__init__(tree)
        adapter = tree.adapter
        self.names = adapter.group_names()
        self.groups = {s.key: adapter.group(s) for s in tree.samples()}
        self.train_counts = adapter.train_counts()
        self.clean_report: dict | None = None

    def group_report(self, payload, ids: list, where: str) -> dict:
        """WILDS' keys with the groups named: ``acc_avg``, ``acc_wg``, ``adj_acc_avg`` (where the tree has a training
        split), ``acc_<name>`` and ``count_<name>``."""
        super().score(payload, ids, where)  # the predictions checked: one class index per image
        predictions = payload["predictions"]
        correct = np.array([predictions[k] == self.labels[k] for k in ids])
        groups = np.array([self.groups[k] for k in ids])
        try:
            raw = metrics.group_accuracy(correct, groups, len(self.names), self.train_counts)
        except ValueError as exc:
            raise EvaluationError(f"{where}: {exc}") from None
        out = {k: raw[k] for k in ("acc_avg", "acc_wg", "adj_acc_avg") if k in raw}
        for g, name in enumerate(self.names):
            out[f"acc_{name}"], out[f"count_{name}"] = raw[f"acc_{g}"], raw[f"count_{g}"]
        return out

    def score(self, payload, ids: list, where: str, cell=None) -> dict[str, float]:
        report = self.group_report(payload, ids, where)
        if cell is None:
            self.clean_report = report  # the summary's per-group table, from the payload evaluate read once
        return {metric: report[key] for metric, key in WILDS_KEYS.items() if key in report}
