"""Natural shifts scored: one run's accuracy, and one robustness table per model over several runs.

A run of ``classify`` on a test set (``imagenet-r``, ...) or on ImageNet (``--classes-of SPACE``: its
in-distribution pair) is summarised as top-1 / top-5 accuracy with a Clopper-Pearson interval, its rule
and label space (:func:`shift_summary`). :func:`robustness_table` sets a model's runs side by side, as a
robustness paper's table: ImageNet accuracy, each shift's top-1 / top-5, the drop from its
in-distribution pair, effective robustness against the standard models' fit (``data/effective_robustness.json``,
or one refitted from the user's pool with :func:`read_fits`), ImageNet-C's mCE when its results are given,
and ImageNet-O's AUROC / AUPR / FPR95 of the negative max softmax against ImageNet val on its classes.
:func:`robustness_plot` draws OOD against ID accuracy on logit axes with each shift's baseline.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import numpy as np

from corruptgen import metrics

from .results import cell_path, read_clean, read_json, read_run
from .tree import EvaluationError, Tree

SUMMARY = "shift"
"""``results.json``'s ``summary`` of a natural-shift run."""
SHIFT_ORDER = ("imagenet-v2", "imagenet-r", "imagenet-sketch", "objectnet", "imagenet-a", "imagenet-o", "imagenet-d")
"""The table's column order (the order of the papers' tables: V2, R, Sketch, ObjectNet, A)."""
ID_SETTING = {"imagenet-v2": "val", "imagenet-sketch": "val", "imagenet-r": "val-on-imagenet-r-classes",
              "imagenet-a": "val-on-imagenet-a-classes", "imagenet-o": "val-on-imagenet-o-classes",
              "objectnet": "val-on-objectnet-classes", "imagenet-d": "val-on-imagenet-d-classes"}  # fmt: skip
"""Each shift's in-distribution pair: ImageNet val, or val on the shift's classes scored the same way."""


def setting_of(doc: dict) -> str:
    """A shift run's setting name (the testbed's): ``val``, ``val-on-<space>-classes``, or the test set."""
    if doc["dataset"] == "imagenet":
        space = doc.get("classes_of") or "imagenet-1k"
        return "val" if space == "imagenet-1k" else f"val-on-{space}-classes"
    return doc["dataset"]


def shift_summary(tree: Tree, task, results: Path, ids: list, run: dict) -> dict:
    """One run's accuracy over the test set (its clean cell), with its interval, rule and label space."""
    path = cell_path(results, None)
    payload = read_clean(results, "run `corruptgen classify` on the test set first")
    scores = task.score(payload, ids, str(path))
    correct = task.correct(payload, ids)
    lo, hi = metrics.clopper_pearson(correct, len(ids))
    ident = tree.identity
    doc = {"summary": SUMMARY, "dataset": tree.dataset, "task": "shift", "metric": "top-1 accuracy",
           "model": run.get("model"), "images": len(ids), "correct": correct, **scores, "interval_95": [lo, hi],
           "rule": task.rule, "label_space": task.space.describe(), "classes_of": ident.get("classes_of"),
           "variant": ident.get("variant"), "border": ident.get("border"), "preprocessing": ident.get("preprocessing"),
           "on_the_fly": True, "cells": {}, "partial": False}  # fmt: skip
    doc["setting"] = setting_of(doc)
    note = tree.adapter.size_warning(len(ids))
    if note:
        doc["note"] = note
    return doc


def shift_markdown(doc: dict) -> str:
    lo, hi = doc["interval_95"]
    top5 = doc.get("top-5 accuracy")
    lines = [f"{doc['dataset']}{' (' + doc['classes_of'] + ' classes)' if doc.get('classes_of') else ''}: "
             f"{doc['model']}", "", "| | value |", "|---|---|",
             f"| top-1 accuracy (%) | {doc['top-1 accuracy']:.2f} |", f"| 95 % interval (Clopper-Pearson) | {lo:.2f}-{hi:.2f} |",
             f"| top-5 accuracy (%) | {'' if top5 is None else f'{top5:.2f}'} |", f"| images | {doc['images']:,} |",
             f"| rule | {doc['rule']} |", f"| label space | {doc['label_space']['name']} ({doc['label_space']['classes']} classes) |"]  # fmt: skip
    if doc.get("note"):
        lines += ["", doc["note"]]
    return "\n".join(lines) + "\n"


def shift_csv(doc: dict) -> str:
    keys = ("dataset", "setting", "model", "top-1 accuracy", "top-5 accuracy", "images", "correct", "rule")
    lo, hi = doc["interval_95"]
    return ",".join([*keys, "interval_low", "interval_high"]) + "\n" + ",".join(
        [*(str(doc.get(k) if doc.get(k) is not None else "") for k in keys), str(lo), str(hi)]) + "\n"


# -- the robustness table over several runs ------------------------------------------------------------


def default_fits() -> list[dict]:
    doc = json.loads(resources.files("corruptgen.evaluate").joinpath("data", "effective_robustness.json").read_text())
    return doc["fits"]


def read_fits(path: Path, transform: str = "logit") -> list[dict]:
    """Fits refitted from the user's own pool of standard models: a CSV with a ``model`` column and one
    column of top-1 accuracies (%) per setting (``val``, ``val-on-imagenet-r-classes``, ``imagenet-r``, ...,
    the testbed's names); each shift whose ID and OOD columns are there is fitted (at least 3 models)."""
    try:
        rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"--fit {path} cannot be read ({exc}).") from None
    if not rows or "model" not in rows[0]:
        raise EvaluationError(f"--fit {path} needs a header with a model column and one column per setting "
                              "(val, imagenet-r, val-on-imagenet-r-classes, ...).")  # fmt: skip
    fits = []
    for shift, id_setting in ID_SETTING.items():
        ood = "imagenetv2-matched-frequency-format-val" if shift == "imagenet-v2" and shift not in rows[0] else shift
        if id_setting not in rows[0] or ood not in rows[0]:
            continue
        pairs = [(float(r[id_setting]), float(r[ood])) for r in rows if r.get(id_setting) and r.get(ood)]
        try:
            fit = metrics.fit_baseline([p[0] for p in pairs], [p[1] for p in pairs], transform)
        except ValueError as exc:
            raise EvaluationError(f"--fit {path}: {shift}: {exc}") from None
        fits.append({"shift": shift, "variant": "matched-frequency" if shift == "imagenet-v2" else None, "id": id_setting,
                     "ood": ood, **fit, "source": str(path)})  # fmt: skip
    if not fits:
        raise EvaluationError(f"--fit {path} holds no pair of columns to fit (e.g. val-on-imagenet-r-classes and imagenet-r).")
    return fits


def _fit_for(fits: list[dict], doc: dict, transform: str) -> dict | None:
    for fit in fits:
        if fit["shift"] == doc["dataset"] and fit.get("transform", "logit") == transform and (
                doc["dataset"] != "imagenet-v2" or fit.get("variant") in (None, doc.get("variant") or "matched-frequency")):
            return fit
    return None


def robustness_table(results: list[Path], fits: list[dict] | None = None, transform: str = "logit") -> dict:
    """Every model's row over the given results folders (each scored by ``evaluate`` first: its
    ``results.json``): a shift run, an in-distribution run (``classify imagenet --classes-of ...``) or an
    ImageNet-C run (its mCE)."""
    fits = default_fits() if fits is None else fits
    models: dict[str, dict] = {}
    for folder in results:
        summary = Path(folder) / "results.json"
        if not summary.is_file():
            raise EvaluationError(f"{folder} holds no results.json; run `corruptgen evaluate` on it alone first.")
        doc = read_json(summary, "results summary")
        model = doc.get("model") or read_run(Path(folder)).get("model") or str(folder)
        row = models.setdefault(model, {"model": model, "settings": {}, "folders": {}})
        if doc.get("summary") == SUMMARY:
            row["settings"][setting_of(doc)] = doc
            row["folders"][setting_of(doc)] = Path(folder)
        elif doc.get("summary") == "grouped":  # a dataset with groups: its average and worst group side by side
            row.setdefault("grouped", {})[doc["dataset"]] = {
                "average": doc["average accuracy"], "worst_group": doc["worst-group accuracy"],
                "adjusted_average": doc.get("adjusted average accuracy"), "split": doc.get("split"), "images": doc["images"]}
        elif doc.get("dataset") == "imagenet" and doc.get("mCE") is not None:
            row["imagenet_c"] = {"mCE": doc["mCE"], "normalisation": doc.get("normalisation"), "clean_error": doc.get("clean_error")}
        else:
            raise EvaluationError(f"{summary} is neither a natural-shift run, a run on a dataset with groups nor an "
                                  "ImageNet-C run; a robustness table reads those.")  # fmt: skip
    table = {"summary": "robustness", "transform": transform, "models": [], "shifts": []}
    shifts = [s for s in SHIFT_ORDER if any(s in row["settings"] for row in models.values())]
    table["shifts"] = shifts
    table["grouped"] = list(dict.fromkeys(name for row in models.values() for name in row.get("grouped", {})))
    for row in models.values():
        entry = {"model": row["model"], "val": _acc(row["settings"].get("val")), "shifts": {},
                 "grouped": row.get("grouped", {})}  # fmt: skip
        if "imagenet_c" in row:
            entry["imagenet-c"] = row["imagenet_c"]
        for shift in shifts:
            doc = row["settings"].get(shift)
            if doc is None:
                continue
            pair = row["settings"].get(ID_SETTING[shift])
            cell = {"top-1": doc["top-1 accuracy"], "top-5": doc.get("top-5 accuracy"), "interval_95": doc["interval_95"],
                    "images": doc["images"], "rule": doc["rule"], "id_setting": ID_SETTING[shift],
                    "id": _acc(pair), "variant": doc.get("variant")}  # fmt: skip
            if pair is not None:
                cell["drop"] = pair["top-1 accuracy"] - doc["top-1 accuracy"]
                fit = _fit_for(fits, doc, transform)
                if fit is not None:
                    cell["effective_robustness"] = metrics.effective_robustness(
                        pair["top-1 accuracy"], doc["top-1 accuracy"], fit["slope"], fit["intercept"], transform)
                    cell["fit"] = fit
            if shift == "imagenet-o" and pair is not None:
                cell.update(_detection(row["folders"][ID_SETTING[shift]], row["folders"][shift]))
            entry["shifts"][shift] = cell
        table["models"].append(entry)
    return table


def _acc(doc: dict | None) -> float | None:
    return None if doc is None else doc["top-1 accuracy"]


def _detection(in_folder: Path, out_folder: Path) -> dict:
    """ImageNet-O's AUROC / AUPR / FPR95: ImageNet val on its classes against ImageNet-O, the negative
    max softmax the anomaly score (hendrycks/natural-adv-examples ``eval_many_models.py``)."""
    scores = []
    for folder in (in_folder, out_folder):
        payload = read_clean(folder, "run `corruptgen classify` on it first")
        msp = payload.get("msp") or {}
        if not msp:
            raise EvaluationError(f"{folder} holds no softmax scores: ImageNet-O's detection measures need a model "
                                  "returning class scores (N x 1000).")  # fmt: skip
        scores.append(-np.array(list(msp.values())))
    return metrics.ood_detection(scores[0], scores[1])


def _f(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def robustness_rows(table: dict) -> tuple[list[str], list[list[str]]]:
    """The table as printed: one row per model, per shift its top-1, drop and ER (ImageNet-O: AUPR)."""
    header = ["model", "ImageNet top-1"]
    for shift in table["shifts"]:
        header += [f"{shift} AUPR", f"{shift} FPR95"] if shift == "imagenet-o" else [f"{shift} top-1", f"{shift} ER"]
    for name in table.get("grouped", []):
        header += [f"{name} average", f"{name} worst-group"]
    header.append("ImageNet-C mCE")
    rows = []
    for entry in table["models"]:
        line = [entry["model"], _f(entry["val"])]
        for shift in table["shifts"]:
            cell = entry["shifts"].get(shift, {})
            if shift == "imagenet-o":
                line += [_f(cell.get("AUPR")), _f(cell.get("FPR95"))]
            else:
                line += [_f(cell.get("top-1")), _f(cell.get("effective_robustness"), 2)]
        for name in table.get("grouped", []):
            cell = entry.get("grouped", {}).get(name, {})
            line += [_f(cell.get("average")), _f(cell.get("worst_group"))]
        line.append(_f((entry.get("imagenet-c") or {}).get("mCE")))
        rows.append(line)
    return header, rows


def robustness_markdown(table: dict) -> str:
    header, rows = robustness_rows(table)
    lines = ["Robustness to natural distribution shifts (top-1 accuracy %, effective robustness in points, "
             f"{table['transform']} fit of the standard models)", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]  # fmt: skip
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    notes = []
    for entry in table["models"]:
        for shift, cell in entry["shifts"].items():
            if cell.get("id") is None and shift != "imagenet-o":
                notes.append(f"{entry['model']}: no {cell['id_setting']} run, so no drop or ER for {shift} (classify "
                             f"imagenet --classes-of {shift if cell['id_setting'] != 'val' else 'imagenet-1k'}).")
    lines += ["", "ER = top-1 - T^-1(slope T(ID top-1) + intercept), the ID accuracy on the shift's classes scored by "
              "the same rule; coefficients from imagenet-testbed's standard models (data/effective_robustness.json) "
              "unless --fit gave others."]  # fmt: skip
    if table.get("grouped"):
        lines += ["", "Datasets with groups: accuracy over the scored split (average) and of its worst group (over the "
                  "groups with images, WILDS' acc_wg)."]  # fmt: skip
    lines += [""] + notes if notes else []
    return "\n".join(lines) + "\n"


def robustness_csv(table: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "setting", "top-1", "top-5", "interval_low", "interval_high", "id_setting", "id_top-1",
                     "drop", "effective_robustness", "rule", "images", "AUROC", "AUPR", "FPR95"])  # fmt: skip
    for entry in table["models"]:
        writer.writerow([entry["model"], "val", entry["val"]] + [""] * 12)
        for shift, c in entry["shifts"].items():
            writer.writerow([entry["model"], shift, c["top-1"], c.get("top-5"), *c["interval_95"], c["id_setting"],
                             c.get("id"), c.get("drop"), c.get("effective_robustness"), c["rule"], c["images"],
                             c.get("AUROC"), c.get("AUPR"), c.get("FPR95")])  # fmt: skip
        for name, c in entry.get("grouped", {}).items():  # the average as top-1, the worst group in its own row
            writer.writerow([entry["model"], name, c["average"], "", "", "", "", "", "", "", "", c["images"], "", "", ""])
            writer.writerow([entry["model"], f"{name} worst-group", c["worst_group"], "", "", "", "", "", "", "", "",
                             c["images"], "", "", ""])  # fmt: skip
    return buffer.getvalue()


def robustness_plot(table: dict) -> bytes:
    """OOD against ID top-1 on logit axes, one panel per shift: the standard models' baseline and each
    model's point (the figure of Taori et al. and its successors)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shifts = [s for s in table["shifts"] if s != "imagenet-o"]
    fig, axes = plt.subplots(1, max(1, len(shifts)), figsize=(3.4 * max(1, len(shifts)), 3.4), dpi=100, squeeze=False)
    transform = table["transform"]
    ticks = np.array([1, 5, 10, 25, 50, 75, 90, 95, 99], dtype=np.float64)
    for ax, shift in zip(axes.ravel(), shifts):
        points = [(e["model"], e["shifts"][shift]) for e in table["models"] if shift in e["shifts"] and e["shifts"][shift].get("id") is not None]
        fit = next((c["fit"] for _, c in points if "fit" in c), None)
        xs = np.linspace(1, 99, 200)
        if fit is not None:
            ax.plot(metrics.transform_accuracy(xs, transform), metrics.transform_accuracy(metrics.baseline_accuracy(
                xs, fit["slope"], fit["intercept"], transform), transform), color="0.4", linewidth=1.2, label="standard models")
        ax.plot(metrics.transform_accuracy(xs, transform), metrics.transform_accuracy(xs, transform), color="0.8",
                linestyle="--", linewidth=1, label="y = x")  # fmt: skip
        for i, (model, c) in enumerate(points):
            ax.scatter(metrics.transform_accuracy(c["id"], transform), metrics.transform_accuracy(c["top-1"], transform),
                       color=f"C{i}", s=25, zorder=3, label=model)  # fmt: skip
        where = metrics.transform_accuracy(ticks, transform)
        ax.set_xticks(where, [f"{t:g}" for t in ticks], fontsize=7)
        ax.set_yticks(where, [f"{t:g}" for t in ticks], fontsize=7)
        lo, hi = metrics.transform_accuracy(np.array([5.0, 95.0]), transform)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"{ID_SETTING[shift]} top-1 (%)", fontsize=8)
        ax.set_ylabel(f"{shift} top-1 (%)", fontsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
