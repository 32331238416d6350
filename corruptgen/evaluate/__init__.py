"""Robustness benchmarks on built (or on-the-fly) -C datasets: run a model, score every cell.

- :mod:`.tree`: a built tree or on-the-fly plan, its clean source and each cell's images;
- :mod:`.results`: the results layout shared by runners and ``evaluate``;
- :mod:`.runner`: ``corruptgen detect`` / ``classify``; :mod:`.tasks`, :mod:`.voc`: per-dataset scoring;
- :mod:`.scoring`, :mod:`.report`: ``corruptgen evaluate`` and its files.

The metrics themselves (CE, mCE, mPC, rPC) are :mod:`corruptgen.metrics`.
"""

from .runner import load_factory, run_model
from .scoring import evaluate
from .tree import EvaluationError, Tree

__all__ = ["EvaluationError", "Tree", "evaluate", "load_factory", "run_model"]
