"""Datasets with groups scored: one run's accuracy per group, the average and the worst group, in WILDS' terms.

A run of ``classify`` on Waterbirds, CelebA or Colored MNIST (the generated tree itself) is summarised by
:func:`grouped_summary`: ``acc_avg``, ``acc_wg``, ``adj_acc_avg`` and each group's ``acc_<name>`` / ``count_<name>``
(WILDS' ``standard_group_eval`` keys), with each accuracy's Clopper-Pearson interval. A run over corrupted copies
(``--corruptions``, or a -C tree) is summarised as every performance is (P / mPC / rPC), for the average and the worst
group side by side, with the clean images' groups beside them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from corruptgen import metrics

from .results import cell_path, read_clean
from .tree import Tree

SUMMARY = "grouped"
"""``results.json``'s ``summary`` of a run over a dataset with groups."""


def grouped_summary(tree: Tree, task, results: Path, ids: list, run: dict) -> dict:
    """One run's accuracy over the scored split (its clean cell), per group and over the groups."""
    payload = read_clean(results, f"run `corruptgen classify {tree.dataset}` on the tree first")
    report = task.group_report(payload, ids, str(cell_path(results, None)))
    intervals = {}
    for name in task.names:
        count = report[f"count_{name}"]
        if count:
            intervals[name] = list(metrics.clopper_pearson(round(report[f"acc_{name}"] * count / 100), count))
    doc = {"summary": SUMMARY, "dataset": tree.dataset, "task": "grouped", "metric": "worst-group accuracy",
           "model": run.get("model"), "split": tree.scored_split, "images": len(ids), "groups": report,
           "group_names": task.names, "intervals_95": intervals, "train_counts": task.train_counts,
           "average accuracy": report["acc_avg"], "worst-group accuracy": report["acc_wg"],
           "adjusted average accuracy": report.get("adj_acc_avg"), "cells": {}, "partial": False}  # fmt: skip
    return doc


def worst_group(doc: dict) -> str:
    """The name of the group with the lowest accuracy among the non-empty ones."""
    names = [n for n in doc["group_names"] if doc["groups"][f"count_{n}"]]
    return min(names, key=lambda n: doc["groups"][f"acc_{n}"])


def grouped_markdown(doc: dict) -> str:
    adjusted = doc.get("adjusted average accuracy")
    lines = [f"{doc['dataset']} ({doc.get('split') or 'all'} split): {doc['model']}", "",
             "| | accuracy (%) | images | 95 % interval |", "|---|---|---|---|",
             f"| average (acc_avg) | {doc['average accuracy']:.2f} | {doc['images']:,} | |",
             f"| worst group (acc_wg: {worst_group(doc)}) | {doc['worst-group accuracy']:.2f} | | |"]  # fmt: skip
    if adjusted is not None:
        lines.append(f"| training-weighted average (adj_acc_avg) | {adjusted:.2f} | | |")
    for name in doc["group_names"]:
        count = doc["groups"][f"count_{name}"]
        lo_hi = doc["intervals_95"].get(name)
        interval = f"{lo_hi[0]:.2f}-{lo_hi[1]:.2f}" if lo_hi else ""
        lines.append(f"| {name} | {doc['groups'][f'acc_{name}']:.2f} | {count:,} | {interval} |" if count else
                     f"| {name} | (no images) | 0 | |")  # fmt: skip
    lines += ["", "Worst-group accuracy is over the groups with at least one image (WILDS' acc_wg); adj_acc_avg weighs "
              "each group's accuracy by its size in the training split (group DRO's reported Waterbirds average)."]
    return "\n".join(lines) + "\n"


def grouped_csv(doc: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dataset", "split", "model", "group", "accuracy", "count"])
    for key in ("acc_avg", "acc_wg", "adj_acc_avg"):
        if key in doc["groups"]:
            writer.writerow([doc["dataset"], doc.get("split"), doc["model"], key, doc["groups"][key], doc["images"]])
    for name in doc["group_names"]:
        writer.writerow([doc["dataset"], doc.get("split"), doc["model"], name, doc["groups"][f"acc_{name}"],
                         doc["groups"][f"count_{name}"]])  # fmt: skip
    return buffer.getvalue()
