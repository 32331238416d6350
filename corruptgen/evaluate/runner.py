"""The runners behind ``corruptgen detect`` and ``corruptgen classify``: import a model factory,
feed it every cell's images (RGB uint8 H x W x 3), write one results file per cell.

A factory is named ``module:attribute`` (uvicorn's convention; the current folder is importable)
and called once with no arguments. It returns a callable that takes a list of images and
returns, per image:

- a detector: a mapping with ``boxes`` (N x 4, x1 y1 x2 y2 in pixels), ``scores`` (N),
  ``labels`` (N, the dataset's category ids) and optionally ``masks`` (N x H x W);
- a classifier: a class index (the whole batch: a sequence or array of N ints);
- a segmenter (Cityscapes): an H x W map of Cityscapes label ids (0-33).

NumPy arrays, lists and CPU torch tensors are all accepted.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from corruptgen import __version__
from corruptgen.pipeline.layout import STATE_FILE

from .results import RUN_FILE, cell_path, read_run, write_json
from .tasks import Task, task_for
from .tree import Cell, EvaluationError, Tree, cell_name


def load_factory(spec: str) -> Callable:
    """Import ``module:attribute`` (dotted attributes allowed) and check it is callable."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise EvaluationError(f"--model {spec!r} must be MODULE:FACTORY, e.g. mydetector:load.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
    except ImportError as exc:
        raise EvaluationError(f"--model {spec}: module {module_name!r} cannot be imported ({exc}).") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise EvaluationError(f"--model {spec}: module {module_name!r} has no attribute {attribute!r}.")
        target = getattr(target, part)
    if not callable(target):
        raise EvaluationError(f"--model {spec}: {attribute!r} is not callable; it must be a factory returning the model.")
    return target


@dataclass
class RunReport:
    cells_run: list[Cell] = field(default_factory=list)
    cells_skipped: list[Cell] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def run_model(tree: Tree, task_kind: str, model: str, results: Path, *, batch_size: int = 1, limit: int | None = None,
              corruptions: list[str] | None = None, severities: list[int] | None = None,
              quiet: bool = False) -> RunReport:  # fmt: skip
    """Run ``model`` over the clean source and every selected cell; skip cells already written."""
    results = Path(results)
    task = task_for(tree, task_kind)
    _check_run_record(results, model, limit, tree.on_the_fly)
    predict = load_factory(model)()
    samples = tree.samples(limit)
    if not samples:
        raise EvaluationError(f"no images found for {tree.dataset} in {tree.identity.get('source')}.")
    cells: list[Cell] = [None, *tree.select(corruptions, severities)]
    todo = [c for c in cells if not cell_path(results, c).is_file()]
    report = RunReport(cells_skipped=[c for c in cells if c not in todo])
    results.mkdir(parents=True, exist_ok=True)
    write_json(results / RUN_FILE, {"model": model, "task": task_kind, "limit": limit, "on_the_fly": tree.on_the_fly,
                                    "batch_size": batch_size, "corruptgen_version": __version__})  # fmt: skip
    if tree.on_the_fly:
        write_json(results / STATE_FILE, tree.state())
    bar = tqdm(total=len(samples) * len(todo), unit="img", disable=quiet, file=sys.stderr, dynamic_ncols=True,
               desc=f"{model}: {len(todo)} cells")  # fmt: skip
    try:
        for cell in todo:
            payload = _run_cell(task, tree, cell, samples, predict, model, batch_size, report, bar, results)
            write_json(cell_path(results, cell), payload)
            report.cells_run.append(cell)
    finally:
        bar.close()
    return report


def _check_run_record(results: Path, model: str, limit: int | None, on_the_fly: bool) -> None:
    """Refuse to add cells to results made by another model or over other images (a failed
    first attempt, with no cell written yet, does not count)."""
    previous = read_run(results) if results.is_dir() else {}
    if not previous or not any(p.name != RUN_FILE and p.name != STATE_FILE for p in results.rglob("*.json")):
        return
    before = (previous.get("model"), previous.get("limit"), bool(previous.get("on_the_fly")))
    if before != (model, limit, on_the_fly):
        raise EvaluationError(f"{results} holds results of --model {before[0]} with --limit {before[1]} "
                              f"{'on the fly' if before[2] else 'from a built tree'}; rerun with the same settings "
                              "to resume, or choose another --results folder.")  # fmt: skip


def _run_cell(task: Task, tree: Tree, cell: Cell, samples, predict, model: str, batch_size: int, report: RunReport, bar,
              results: Path):  # fmt: skip
    payload = task.new_payload()
    files = cell_path(results, cell).with_suffix("")  # what does not fit in the cell's JSON goes beside it
    where = f"--model {model} ({cell_name(cell)})"
    batch: list = []

    def flush():
        task.process(payload, batch, predict([pixels for _, pixels in batch]), where, files)
        bar.update(len(batch))
        batch.clear()

    for sample, pixels, problem in tree.images(cell, samples):
        if pixels is None:
            report.unreadable.append(f"{cell_name(cell)}: {problem}")
            task.unreadable(payload, sample)
            bar.update(1)
            continue
        batch.append((sample, pixels))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return payload
