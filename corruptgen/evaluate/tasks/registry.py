"""The task registry: which :class:`~.base.Task` scores a (dataset, kind) pair.

It imports no implementation (as mmdet keeps its registries in ``mmdet/registry.py``): each task
module registers its classes with :func:`register`, and importing :mod:`corruptgen.evaluate.tasks`
imports them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tree import EvaluationError, Tree

if TYPE_CHECKING:
    from .base import Task

TASKS: dict[tuple[str, str], type[Task]] = {}
"""``(dataset, kind)`` -> task class; a dataset's first registered kind is its default."""

RUNNERS = {"detection": "corruptgen detect", "classification": "corruptgen classify", "segmentation": "corruptgen segment",
           "stability": "corruptgen classify", "shift": "corruptgen classify", "grouped": "corruptgen classify"}
"""The command that writes each kind's results."""


def register(*datasets: str):
    """Class decorator: the task scores its ``kind`` on each of ``datasets``."""

    def add(cls: type[Task]) -> type[Task]:
        for dataset in datasets:
            TASKS[dataset, cls.kind] = cls
        return cls

    return add


def kinds(dataset: str, sequences: bool = False) -> list[str]:
    """The kinds a dataset can be scored as, its default first: of its images, or of a perturbation
    build's sequences (``sequences``)."""
    return [kind for (name, kind), cls in TASKS.items() if name == dataset and getattr(cls, "sequences", False) == sequences]


def task_for(tree: Tree, kind: str | None = None) -> Task:
    """The task scoring ``tree`` as ``kind`` (None: the dataset's default); EvaluationError naming
    the command to use when the dataset has no such task. A perturbation build is scored for
    stability, which ``corruptgen classify`` writes (its ``classification`` kind means that there)."""
    available = kinds(tree.dataset, tree.sequences)
    if tree.sequences and kind == "classification":
        kind = None
    if not available:
        raise EvaluationError(f"no task scores {tree.dataset}.")
    if kind is not None and kind not in available:
        raise EvaluationError(f"{tree.dataset} is a {available[0]} dataset; use {RUNNERS[available[0]]}.")
    return TASKS[tree.dataset, kind or available[0]](tree)
