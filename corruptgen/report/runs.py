"""The evaluations a report sets side by side: each ``--results`` folder's ``results.json``, as
``corruptgen evaluate`` writes it (P / mPC / rPC, or top-1 error / CE / mCE)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from corruptgen.evaluate.results import RUN_FILE, read_json
from corruptgen.evaluate.tree import EvaluationError
from corruptgen.metrics import higher_is_better

from .build import ReportError

SUMMARY_FILE = "results.json"


@dataclass
class Run:
    label: str
    doc: dict

    @property
    def metric(self) -> str:
        return self.doc["metric"]

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.metric)

    @property
    def stability(self) -> bool:
        """A perturbation build's summary (FP per sequence; no clean cell, no severities)."""
        return self.doc.get("summary") == "stability"

    @property
    def clean(self) -> float | None:
        if self.stability:
            return None
        return self.doc.get("P") if self.higher_is_better else self.doc.get("clean_error")

    @cached_property
    def headline(self) -> list[tuple[str, float | None]]:
        """A -C run's summary numbers, as the table of ``corruptgen evaluate`` names them (a stability
        run's table is the page's own, ``_stability_results``)."""
        d = self.doc
        if self.higher_is_better:
            rows = [(f"P ({self.metric})", d.get("P")), ("mPC", d.get("mPC")), ("rPC [%]", d.get("rPC"))]
            worst = (d.get("additional") or {}).get("worst-group accuracy")
            if worst:  # a dataset with groups: the worst group next to the average (#38)
                rows += [("P (worst-group accuracy)", worst.get("P")), ("worst-group mPC", worst.get("mPC"))]
            return rows
        return [("clean error", d.get("clean_error")), (f"mCE ({d.get('normalisation')})", d.get("mCE")),
                ("relative mCE", d.get("relative_mCE"))]  # fmt: skip

    @cached_property
    def cells(self) -> dict[str, dict[int, float]]:
        """``{corruption: {severity: value}}``; a perturbation build's ``{sequence: {1: FP}}``."""
        if self.stability:
            return {name: {1: float(values[self.metric])} for name, values in (self.doc.get("cells") or {}).items()}
        return {c: {int(s): float(v) for s, v in row.items()} for c, row in (self.doc.get("cells") or {}).items()}

    def worst(self, n: int) -> list[tuple[str, int, float]]:
        """The ``n`` cells where the model does worst (lowest performance, or highest error)."""
        flat = [(c, s, v) for c, row in self.cells.items() for s, v in row.items()]
        return sorted(flat, key=lambda cell: (cell[2] if self.higher_is_better else -cell[2], cell[0], cell[1]))[:n]


def read_runs(paths: list[Path]) -> list[Run]:
    """One :class:`Run` per folder (or ``results.json`` file); ReportError with one sentence when a
    folder holds no summary or the runs measure different things."""
    runs = []
    for path in paths:
        path = Path(path)
        summary = path if path.is_file() else path / SUMMARY_FILE
        if not summary.is_file():
            hint = (f"run `corruptgen evaluate TREE --results {path}` first" if (path / RUN_FILE).is_file() or
                    (path / "clean.json").is_file() else "give the folder `corruptgen evaluate` wrote (its --out)")  # fmt: skip
            raise ReportError(f"--results {path} holds no {SUMMARY_FILE}; {hint}.")
        try:
            doc = read_json(summary, "results summary")
        except EvaluationError as exc:
            raise ReportError(str(exc)) from None
        if not isinstance(doc, dict) or "metric" not in doc or "cells" not in doc:
            raise ReportError(f"{summary} is not a summary written by `corruptgen evaluate` (no 'metric' and 'cells').")
        label = (summary.parent if summary.name == SUMMARY_FILE else summary).name or str(summary.parent)
        runs.append(Run(label, doc))
    metrics = {run.metric for run in runs}
    if len(metrics) > 1:
        raise ReportError(f"the --results measure different things ({', '.join(sorted(metrics))}); report runs of one task together.")
    labels = [run.label for run in runs]
    for i, run in enumerate(runs):  # two folders of the same name: tell them apart by position
        if labels.count(run.label) > 1:
            run.label = f"{run.label} ({i + 1})"
    return runs
