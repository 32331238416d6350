"""``evaluate``: score every cell of a results folder against the tree's ground truth and summarise."""

from __future__ import annotations

from pathlib import Path

from corruptgen.corruptions.sequences import get_sequence
from corruptgen.metrics import ALEXNET_ERRORS, higher_is_better

from .groups import grouped_summary
from .results import cell_path, read_json, read_run
from .shifts import shift_summary
from .summary import cells_of, error_summary, performance_summary, stability_summary, write_summary
from .tasks import Task, task_for
from .tasks.registry import TASKS, kinds
from .tree import Cell, EvaluationError, Tree, cell_name

ONE_SET = {"shift": shift_summary, "grouped": grouped_summary}
"""Tasks whose run on a test set alone (no corruption cells) has a summary of its own."""


def score_cells(task: Task, results: Path, cells: list[Cell], ids: list, partial: bool) -> dict:
    """``{cell: {metric: value}}`` for every cell with a results file; missing cells are an error
    unless ``partial``."""
    payloads, missing = {}, []
    for cell in cells:
        path = cell_path(results, cell)
        if path.is_file():
            payloads[cell] = read_json(path)
        else:
            missing.append(cell)
    if missing and not partial:
        first = cell_path(results, missing[0])
        raise EvaluationError(f"{first} is missing: no results for {cell_name(missing[0])} ({len(missing)} of {len(cells)} "
                              "cells missing); run the model on them (the runner resumes) or pass --partial.")  # fmt: skip
    if not payloads:
        raise EvaluationError(f"{results} holds no results file for any cell of the tree (expected clean.json and <corruption>/<severity>.json).")
    task.prepare(payloads)
    return {cell: task.score(payload, ids, str(cell_path(results, cell)), cell) for cell, payload in payloads.items()}


def _peek_kind(tree: Tree, results: Path) -> str | None:
    """Results written by another tool (no run.json): the kind whose task claims the clean cell's
    payload (Cityscapes cells holding label maps are segmentation), else the dataset's default."""
    clean = cell_path(results, None)
    if not clean.is_file():
        return None
    payload = read_json(clean)
    return next((kind for kind in kinds(tree.dataset) if TASKS[tree.dataset, kind].claims(payload)), None)


def normalisation(tree: Tree, cells: list[tuple[str, int]]) -> str:
    """AlexNet's table applies to ImageNet-C proper: ImageNet, its preprocessing, the imagenet
    profile, and corruptions/severities the table has."""
    ident = tree.identity
    imagenet_c = tree.dataset == "imagenet" and ident.get("preprocessing") and ident.get("profile") == "imagenet"
    covered = all(c in ALEXNET_ERRORS and s in ALEXNET_ERRORS[c] for c, s in cells)
    return "alexnet" if imagenet_c and covered else "unnormalised"


def evaluate(tree: Tree, results: Path, out: Path | None = None, *, partial: bool = False, baseline: Path | None = None,
             corruptions: list[str] | None = None, severities: list[int] | None = None, difficulty: int = 1) -> dict:  # fmt: skip
    """Score ``results`` (the layout of :mod:`.results`) against ``tree``; write the summary files to ``out``.

    ``corruptions`` / ``severities`` narrow the grid scored and averaged (None: every cell of the
    tree), e.g. CIFAR-10-C's 15 benchmark corruptions of the release's 19. ``difficulty``: a perturbation
    build scored as ``test.py --difficulty`` scores it (1, the benchmark's, by default)."""
    results = Path(results)
    if not results.is_dir():
        raise EvaluationError(f"--results {results} is not a folder.")
    run = read_run(results)
    task = task_for(tree, run.get("task") or _peek_kind(tree, results))
    if run.get("split"):
        tree.score_split(run["split"])
    samples = tree.samples(run.get("limit"))
    ids = [task.sample_id(s) for s in samples]
    grid = tree.select(corruptions, severities)
    if task.kind in ONE_SET and not tree.cells:  # a test set itself: its accuracy (per group)
        doc = ONE_SET[task.kind](tree, task, results, ids, run)
        if out is not None:
            write_summary(doc, Path(out))
        return doc
    if not grid:
        raise EvaluationError(f"the tree holds no cell of corruptions {corruptions} at severities {severities}.")
    if tree.sequences:
        return _stability(tree, task, results, out, grid, ids, partial, baseline, run, difficulty)
    if difficulty != 1:
        raise EvaluationError(f"a difficulty belongs to perturbation builds; {tree.root or results} holds a -C build.")
    cells: list[Cell] = [None, *grid]
    scores = score_cells(task, results, cells, ids, partial)
    if higher_is_better(task.metrics[0]):
        given = tuple(m for m in task.metrics if all(m in v for v in scores.values()))  # a class-index model: no top-5
        doc = performance_summary(tree.dataset, task.kind, given, scores, grid, partial)
        if task.kind == "grouped" and task.clean_report:  # the clean images' groups, named as WILDS names them
            doc["groups"] = task.clean_report
    else:
        metric = task.metrics[0]
        base, name = None, normalisation(tree, grid)
        if baseline is not None:
            base_scores = score_cells(task, Path(baseline), cells, ids, False)
            base = {"clean": base_scores[None][metric], "cells": cells_of(base_scores, metric)}
            name = f"baseline {baseline}"
        doc = error_summary(tree.dataset, task.kind, metric, scores, grid, partial, base, name)
    doc.update({"model": run.get("model"), "images": len(ids), "on_the_fly": bool(run.get("on_the_fly"))})
    coverage = benchmark_coverage(tree, task, samples)
    if coverage:
        doc["coverage"] = coverage
    if out is not None:
        write_summary(doc, Path(out))
    return doc


def benchmark_coverage(tree: Tree, task: Task, samples: list) -> dict | None:
    """How much of the benchmark a classification run scored, with a sentence saying what that makes of
    its numbers, when it is not all of it (a 6-image, 3-class ImageNet tree's AlexNet-normalised mCE is
    no ImageNet-C mCE); None when it is, or the dataset has no such benchmark."""
    benchmark = tree.adapter.benchmark_size
    labels = getattr(task, "labels", None)
    if benchmark is None or not isinstance(labels, dict):
        return None
    name, of_images, of_classes = benchmark
    images, classes = len(samples), len({labels.get(s.key) for s in samples} - {None})
    if images >= of_images and classes >= of_classes:
        return None
    sample = images < of_images / 10 or classes < of_classes
    what = ("a small sample of it, whose numbers are not comparable with published ones" if sample else
            "a subset of it (as RobustBench's 5,000 ImageNet images), comparable with numbers on the same subset only")
    note = (f"This run scores {images:,} of {name}'s {of_images:,} images and {classes:,} of its {of_classes:,} classes: "
            f"{what}.")  # fmt: skip
    return {"benchmark": name, "images": images, "benchmark_images": of_images, "classes": classes,
            "benchmark_classes": of_classes, "note": note}  # fmt: skip


def _stability(tree: Tree, task: Task, results: Path, out: Path | None, grid, ids, partial, baseline, run,
               difficulty: int) -> dict:  # fmt: skip
    """A perturbation build's FP / T5D per sequence, mFR and mT5D (against ``baseline``'s, when given). At a
    difficulty over 1, the cells ``test.py --difficulty`` reads: each noise sequence's tree of that
    difficulty, the others' difficulty-1 sequences with frames that far apart."""
    if difficulty > 1:
        grid = [(c, d) for c, d in grid if d == get_sequence(c).scored_at(difficulty)]
        if not grid:
            raise EvaluationError(f"the tree holds no cell for difficulty {difficulty}; build the noise sequences with "
                                  f"--difficulties {difficulty}, or score the others at it.")  # fmt: skip
    task.stride = difficulty
    scores = score_cells(task, results, grid, ids, partial)
    base, name = None, "unnormalised"
    if baseline is not None:
        base, name = score_cells(task, Path(baseline), grid, ids, False), f"baseline {baseline}"
    doc = stability_summary(tree.dataset, tree.identity.get("profile"), scores, grid, partial, base, name, difficulty)
    doc.update({"model": run.get("model"), "images": len(ids), "on_the_fly": False})
    if out is not None:
        write_summary(doc, Path(out))
    return doc
