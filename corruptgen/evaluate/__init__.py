"""Robustness benchmarks on built (or on-the-fly) -C datasets: run a model, score every cell.

- :mod:`.tree`: a built tree or on-the-fly plan, its clean source and each cell's images;
- :mod:`.results`: the results layout shared by runners and ``evaluate``;
- :mod:`.runner`: ``corruptgen detect`` / ``classify`` / ``segment``: feed the model, write each cell;
- :mod:`.tasks`: one module per task (COCO, VOC, Cityscapes, classification): what a model's outputs
  become in a results file, and how a cell is scored; the registry picks one per dataset and kind;
- :mod:`.scoring`, :mod:`.summary`: ``corruptgen evaluate`` and its files.

The metrics themselves (CE, mCE, mPC, rPC) are :mod:`corruptgen.metrics`.
"""

from .runner import load_factory, run_model
from .scoring import evaluate
from .tree import EvaluationError, Tree

__all__ = ["EvaluationError", "Tree", "evaluate", "load_factory", "run_model"]
