"""Label spaces as package data, and the scoring rules over them.

A label space maps a test set's folders to ImageNet-1k classes: ``data/<name>.json`` holds its classes
(``folder``, ``name``, ``in1k``: the torchvision indices it covers, ``members``: folders merged into it)
and its provenance (repository, commit, file, line). ImageNet-1k itself (``imagenet-1k.json``: the 1000
wnids in torchvision's order and their names) is the space every other points into; ImageNet-V2's
(folders ``0``..``999``) and ImageNet-Sketch's (wnid folders) are it, keyed differently. No class list
is written in code.

The three rules turn a model's 1000-way scores into the space's classes, as the published numbers were
made (``../shared/research/shifts.md`` section 0):

- ``mask``: only the space's ImageNet logits compete; the top-k of them, each read as its class
  (ImageNet-R/A/O: Hendrycks' eval, timm ``--valid-labels``, imagenet-testbed ``class_sublist``);
- ``maxpool``: a class scores the max of its ImageNet logits; the top-k classes (ObjectNet: wise-ft's
  ``project_logits``; equals ``mask`` at top-1);
- ``full``: the top-k of all 1000, each mapped to its class, unmapped ones wrong (ImageNet-D's
  reference code, the ObjectNet challenge's template).

Examples
--------
>>> space = label_space("imagenet-r")
>>> len(space.classes), space.default_rule, space.classes[0].folder
(200, 'mask', 'n01443537')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources

import numpy as np

RULES = ("mask", "maxpool", "full")
"""The scoring rules, by name (recorded in every results file)."""
SPACES = ("imagenet-1k", "imagenet-v2", "imagenet-sketch", "imagenet-r", "imagenet-a", "imagenet-o", "objectnet", "imagenet-d")
"""The label spaces that ship."""
_KEYED_1K = {"imagenet-v2": "int_index", "imagenet-sketch": "wnid", "imagenet-1k": "wnid"}
"""Spaces that are ImageNet-1k itself, by what names their folders."""


class LabelError(ValueError):
    """An unknown label space or rule, or model outputs a rule cannot use; the message names them."""


@dataclass(frozen=True)
class LabelClass:
    folder: str
    """The test set's folder of this class (a wnid, an ImageNet-V2 index, an ObjectNet or DomainNet folder)."""
    name: str
    in1k: tuple[int, ...]
    """The ImageNet-1k classes (torchvision indices) the class covers."""
    members: tuple[str, ...] = ()
    """Folders merged into the class (ImageNet-D's merges); the class's own folder alone when empty."""


@dataclass(frozen=True)
class LabelSpace:
    name: str
    provenance: str | dict
    folder_key: str
    default_rule: str
    classes: tuple[LabelClass, ...]
    _folders: dict = field(default_factory=dict, repr=False, compare=False)

    def index(self, folder: str) -> int | None:
        """The class a folder belongs to (its position in :attr:`classes`); None: the space leaves it out."""
        if not self._folders:
            for i, c in enumerate(self.classes):
                for name in (c.folder, *c.members):
                    self._folders[name] = i
        return self._folders.get(folder)

    @cached_property
    def union(self) -> np.ndarray:
        """Every ImageNet-1k index the space covers, sorted (the logits ``mask`` keeps)."""
        return np.array(sorted({i for c in self.classes for i in c.in1k}), dtype=np.int64)

    @cached_property
    def class_of_in1k(self) -> np.ndarray:
        """For each of the 1000 ImageNet classes, the space's class covering it, or -1."""
        table = np.full(1000, -1, dtype=np.int64)
        for i, c in enumerate(self.classes):
            table[list(c.in1k)] = i
        return table

    def describe(self) -> dict:
        """What results files record of the space."""
        return {"name": self.name, "classes": len(self.classes), "in1k": len(self.union), "provenance": self.provenance}


def _read(name: str) -> dict:
    return json.loads(resources.files(__name__).joinpath("data", f"{name}.json").read_text(encoding="utf-8"))


@cache
def imagenet_classes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """ImageNet-1k's wnids in torchvision's order (sorted) and their names."""
    doc = _read("imagenet-1k")
    return tuple(doc["wnids"]), tuple(doc["names"])


@cache
def label_space(name: str) -> LabelSpace:
    """The label space ``name`` (one of :data:`SPACES`); LabelError naming them otherwise."""
    if name not in SPACES:
        raise LabelError(f"unknown label space {name!r}; valid ones are {', '.join(SPACES)}.")
    if name in _KEYED_1K:
        wnids, names = imagenet_classes()
        key = _KEYED_1K[name]
        folders = [str(i) for i in range(1000)] if key == "int_index" else list(wnids)
        classes = tuple(LabelClass(folder, n, (i,)) for i, (folder, n) in enumerate(zip(folders, names)))
        provenance = _read("imagenet-1k")["provenance"]
        if key == "int_index":  # ImageNet-V2: folder i is class i (never ImageFolder's string order)
            provenance = {**provenance, "folders": "modestyachts/ImageNetV2_pytorch imagenet_v2.py: label = int(folder)"}
        return LabelSpace(name, provenance, key, "full", classes)
    doc = _read(name)
    classes = tuple(LabelClass(c["folder"], c["name"], tuple(c["in1k"]), tuple(c.get("members", ()))) for c in doc["classes"])
    return LabelSpace(doc["name"], doc["provenance"], doc["folder_key"], doc["default_rule"], classes)


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise LabelError(f"unknown rule {rule!r}; valid rules are {', '.join(RULES)}.")
    return rule


def top_classes(outputs: np.ndarray, space: LabelSpace, rule: str, k: int = 5) -> np.ndarray:
    """The space's classes a model predicts under ``rule``, best first: ``N x k`` class indices (-1 where
    ``full`` reads an ImageNet class the space leaves out).

    ``outputs``: N x 1000 scores (logits or probabilities; ties go to the lower index, as ``torch.topk``
    and ``argmax``), or N ImageNet class indices (top-1 under ``full`` only: ``mask`` and ``maxpool`` need
    every score). Under ``mask`` a many-to-one space (ObjectNet) may name a class twice among the top k,
    as the reference does; ``maxpool`` names k distinct classes.

    Examples
    --------
    >>> space = label_space("imagenet-r")
    >>> scores = np.zeros((1, 1000)); scores[0, 0] = 9.0; scores[0, 2] = 1.0   # class 0 is not in ImageNet-R
    >>> top_classes(scores, space, "mask", 1).tolist(), top_classes(scores, space, "full", 1).tolist()
    ([[1]], [[-1]])
    """
    check_rule(rule)
    outputs = np.asarray(outputs)
    if outputs.ndim == 1:
        if rule != "full":
            raise LabelError(f"the {rule} rule needs each image's 1000 class scores; a model that returns class "
                             "indices can be scored with the full rule only (--rule full).")  # fmt: skip
        indices = outputs.astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() > 999):
            raise LabelError("class indices must lie in 0-999 (ImageNet-1k, torchvision's order).")
        return space.class_of_in1k[indices][:, None]
    if outputs.ndim != 2 or outputs.shape[1] != 1000:
        raise LabelError(f"outputs of shape {outputs.shape}; the rules read N x 1000 ImageNet scores (or N class indices).")
    scores = outputs.astype(np.float64)
    if rule == "full":
        return space.class_of_in1k[_top(scores, k)]
    if rule == "mask":
        union = space.union
        return space.class_of_in1k[union[_top(scores[:, union], min(k, len(union)))]]
    pooled = np.full((len(scores), len(space.classes)), -np.inf)
    for i, c in enumerate(space.classes):
        pooled[:, i] = scores[:, list(c.in1k)].max(axis=1)
    return _top(pooled, min(k, len(space.classes)))


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest of each row, largest first, ties to the lower index."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def max_softmax(outputs: np.ndarray, space: LabelSpace, rule: str) -> np.ndarray:
    """Each image's maximum softmax probability over what ``rule`` lets compete (the space's logits under
    ``mask``, the pooled classes under ``maxpool``, all 1000 under ``full``): ImageNet-O's anomaly score is
    its negative (hendrycks/natural-adv-examples ``eval_many_models.py``)."""
    scores = np.asarray(outputs, dtype=np.float64)
    if scores.ndim != 2:
        raise LabelError("an anomaly score needs each image's class scores (N x 1000), not class indices.")
    if rule == "mask":
        scores = scores[:, space.union]
    elif rule == "maxpool":
        scores = np.stack([scores[:, list(c.in1k)].max(axis=1) for c in space.classes], axis=1)
    return softmax_max(scores)


def softmax_max(scores: np.ndarray) -> np.ndarray:
    """Each row's largest softmax probability (computed stably, from the row's maximum)."""
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp.max(axis=1) / exp.sum(axis=1)


__all__ = ["RULES", "SPACES", "LabelClass", "LabelError", "LabelSpace", "check_rule", "imagenet_classes", "label_space",
           "max_softmax", "softmax_max", "top_classes"]
