"""What is scored per dataset kind: one module per task, the registry apart from them.

- :mod:`.base`: the :class:`~.base.Task` protocol, detectors' outputs as COCO results, payload checks;
- :mod:`.coco` (COCO), :mod:`.cityscapes` (instances and semantic segmentation), :mod:`.voc`
  (Pascal VOC's devkit AP), :mod:`.classification` (top-1 error), :mod:`.stability` (ImageNet-P's
  flip probability and top-5 distance, on perturbation builds), :mod:`.shift` (natural shifts: top-1 /
  top-5 accuracy in a test set's label space under a named rule), :mod:`.grouped` (accuracy per group, average
  and worst group: Waterbirds, CelebA, Colored MNIST);
- :mod:`.registry`: ``(dataset, kind)`` -> task, and :func:`~.registry.task_for`.
"""

from __future__ import annotations

from . import cityscapes, classification, coco, grouped, shift, stability, voc  # noqa: F401  (each registers its tasks)
from .base import Task
from .registry import TASKS, task_for

__all__ = ["TASKS", "Task", "task_for"]
