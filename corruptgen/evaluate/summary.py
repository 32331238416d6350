"""From per-cell scores to the summary (P / mPC / rPC or CE / mCE) and its files: results.json,
table.md, table.csv and plot.png. Nothing is written until everything has been computed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from corruptgen import metrics
from corruptgen.corruptions import BENCHMARK, CIFAR_CBAR, IMAGENET_CBAR, MNIST_C, SEVERITIES
from corruptgen.corruptions.sequences import TEST_PERTURBATIONS, get_sequence
from corruptgen.files import atomic_write
from corruptgen.pipeline.layout import tree_name

from .groups import grouped_csv, grouped_markdown
from .shifts import shift_csv, shift_markdown

Scores = dict  # {None: {metric: v}, (corruption, severity): {metric: v}}


def cells_of(scores: Scores, metric: str) -> dict[str, dict[int, float]]:
    """``{corruption: {severity: value}}``; MNIST-C's identity (the clean copy) is no corruption."""
    cells: dict[str, dict[int, float]] = {}
    for cell, values in scores.items():
        if cell is not None and cell[0] != "identity":
            cells.setdefault(cell[0], {})[cell[1]] = values[metric]
    return cells


def _grid(cells_built: list[tuple[str, int]]) -> tuple[list[str], list[int], dict[str, tuple[int, ...]]]:
    """Corruption names, all severities, and each corruption's own severities (the expected grid).
    MNIST-C's identity is the clean copy, not a corruption: it stays out of the means."""
    names = list(dict.fromkeys(c for c, _ in cells_built if c != "identity"))
    sevs = sorted({s for c, s in cells_built if c != "identity"})
    return names, sevs, {c: tuple(s for cc, s in cells_built if cc == c) for c in names}


def performance_summary(dataset: str, task: str, metric_names: tuple[str, ...], scores: Scores,
                        built: list[tuple[str, int]], partial: bool) -> dict:  # fmt: skip
    """P, mPC and rPC for each metric (the first is the headline), over the tree's cells
    (detection and segmentation: any performance where higher is better)."""
    names, sevs, expected = _grid(built)

    def one(metric: str) -> dict:
        cells = cells_of(scores, metric)
        clean = scores[None][metric] if None in scores else None
        m = metrics.mpc(cells, corruptions=expected, severities=None, partial=partial) if expected else None
        r = metrics.rpc(cells, clean, corruptions=expected, partial=partial) if expected and clean else None
        return {"P": clean, "mPC": m.value if m else None, "rPC": r.value if r else None,
                "per_corruption": m.per_corruption if m else {}, "cells": _jsonable(cells)}  # fmt: skip

    head = one(metric_names[0])
    doc = {"dataset": dataset, "task": task, "metric": metric_names[0], **head}
    doc.update(_grid_note(names, sevs, partial, scores, built))
    if len(metric_names) > 1:
        doc["additional"] = {m: one(m) for m in metric_names[1:]}
    return doc


def error_summary(dataset: str, task: str, metric: str, scores: Scores, built: list[tuple[str, int]], partial: bool,
                  baseline: dict | None, baseline_name: str) -> dict:  # fmt: skip
    """An error (lower is better: top-1 error) per cell, CE per corruption, mCE and relative mCE.

    ``baseline``: ``{"clean": e, "cells": {c: {s: e}}}`` of another model, or None for the
    AlexNet table when ``baseline_name == "alexnet"``, else unnormalised.
    """
    names, sevs, expected = _grid(built)
    cells = cells_of(scores, metric)
    clean = scores[None][metric] if None in scores else None
    if baseline_name == "alexnet":
        base, base_clean = "alexnet", metrics.ALEXNET_CLEAN_ERROR
    elif baseline is not None:
        base, base_clean = baseline["cells"], baseline["clean"]
    else:
        base, base_clean = None, None
    m = metrics.mce(cells, base, corruptions=expected, partial=partial)
    rel, note = None, None
    if clean is not None:
        try:
            rel = metrics.relative_mce(cells, clean, base, base_clean, corruptions=expected, partial=partial)
        except ValueError as exc:  # a baseline no worse under corruption than clean: relative CE undefined
            note = str(exc)
    doc = {"dataset": dataset, "task": task, "metric": metric, "clean_error": clean,
           "cells": _jsonable(cells), "normalisation": baseline_name, "CE": m.per_corruption, "mCE": m.value,
           "relative_CE": rel.per_corruption if rel else None, "relative_mCE": rel.value if rel else None,
           "relative_note": note}  # fmt: skip
    doc.update(_grid_note(names, sevs, partial, scores, built))
    return doc


def stability_summary(dataset: str, profile: str, scores: Scores, built: list[tuple[str, int]], partial: bool,
                      baseline: Scores | None, baseline_name: str, difficulty: int = 1) -> dict:  # fmt: skip
    """ImageNet-P's table: FP (and T5D where the model gave scores) per perturbation sequence; mFR and mT5D
    over the test perturbations at ``difficulty`` (``test.py --difficulty``: the noise sequences'
    ``<name>_<difficulty>`` trees, the others' frames ``difficulty`` apart, as ``built``'s cells were
    scored), each divided by ``baseline``'s (another model's scores on the same tree; the paper's AlexNet
    values are not published with the benchmark) or, without one, their unnormalised means (``mFP``,
    ``mT5D``), as ``test.py`` and ``cifar-p-eval.py`` print."""
    fp, t5d = "flip probability", "top-5 distance"
    cells = {tree_name(c, d, profile): dict(scores[c, d]) for c, d in built if (c, d) in scores}

    def averaged(c: str, d: int) -> bool:
        return c in TEST_PERTURBATIONS and (c, d) in scores and d == get_sequence(c).scored_at(difficulty)

    test = {tree_name(c, d, profile): (c, d) for c, d in built if averaged(c, d)}
    doc = {"dataset": dataset, "task": "stability", "summary": "stability", "metric": fp, "profile": profile,
           "difficulty": difficulty, "perturbations": [tree_name(c, d, profile) for c, d in built], "cells": cells,
           "averaged": list(test), "normalisation": baseline_name}  # fmt: skip
    doc["why_null"] = {}
    for metric, raw, rate in ((fp, "mFP", "mFR"), (t5d, "mT5D_raw", "mT5D")):
        values = {name: scores[cell][metric] for name, cell in test.items() if metric in scores[cell]}
        whole = len(values) == len(test) and bool(test)
        doc[raw] = metrics.mean_flip_rate(values) if whole else None
        rates, mean, why = None, None, None
        if not test:
            why = f"no test perturbation at difficulty {difficulty} was scored"
        elif not whole:
            why = (f"{', '.join(n for n in test if n not in values)} has no {metric}"
                   + ("; the model returned class indices, and T5D needs its scores (N x classes)" if metric == t5d else ""))
        elif baseline is not None:
            base = {name: baseline[cell][metric] for name, cell in test.items() if metric in baseline.get(cell, {})}
            zero = [name for name, v in base.items() if v <= 0]
            if len(base) < len(test):
                why = (f"the baseline has no {metric} on {', '.join(n for n in test if n not in base)}"
                       + ("; it returned class indices, not scores" if metric == t5d else ""))
            elif zero:
                why = (f"the baseline's {metric} is 0 on {', '.join(zero)}, so its rate cannot divide; choose a "
                       "baseline that flips")
            else:
                rates = {name: 100.0 * values[name] / base[name] for name in test}
                mean = metrics.mean_flip_rate(values, base)
        if why:
            doc["why_null"][raw if not whole else rate] = why
            if not whole and baseline is not None:
                doc["why_null"][rate] = why
        doc["FR" if metric == fp else "T5D_rate"] = rates
        doc[rate] = mean
    missing = [tree_name(c, d, profile) for c, d in built if (c, d) not in scores]
    doc.update({"test_grid": {c for c, _ in test.values()} == set(TEST_PERTURBATIONS), "partial": bool(partial and missing),
                "missing_cells": missing})  # fmt: skip
    return doc


def _stability_rows(doc: dict) -> tuple[list[str], list[list[str]], list[tuple[str, str]]]:
    fp, t5d = "flip probability", "top-5 distance"
    header = ["perturbation", "FP (%)", "T5D"] + (["FR (%)", "T5D rel. (%)"] if doc["FR"] is not None else [])
    rows = []
    for name in doc["perturbations"]:
        values = doc["cells"].get(name, {})
        line = [name, _fmt(values.get(fp)), _fmt(values.get(t5d))]
        if doc["FR"] is not None:  # rates exist for the averaged test cells (difficulty 1: named as the perturbation)
            line += [_fmt(doc["FR"].get(name)), _fmt((doc["T5D_rate"] or {}).get(name))]
        rows.append(line)
    norm = doc["normalisation"]
    summary = [("mFP (unnormalised mean FP, %)", _fmt(doc["mFP"])), ("mean T5D (unnormalised)", _fmt(doc["mT5D_raw"]))]
    if norm != "unnormalised":
        summary += [(f"mFR (normalised by {norm}, %)", _fmt(doc["mFR"])), (f"mT5D (normalised by {norm}, %)", _fmt(doc["mT5D"]))]
    return header, rows, summary


def _grid_note(names, sevs, partial, scores, built) -> dict:
    missing = [f"{c}/{s}" for c, s in built if (c, s) not in scores] + ([] if None in scores else ["clean"])
    five = sevs == list(SEVERITIES)
    return {"corruptions": names, "severities": sevs,
            "benchmark_grid": (five and set(names) in (set(BENCHMARK), set(IMAGENET_CBAR), set(CIFAR_CBAR)))
                              or (set(names) == set(MNIST_C[1:]) and sevs == [1]),
            "partial": bool(partial and missing), "missing_cells": missing}  # fmt: skip


def _jsonable(cells: dict) -> dict:
    return {c: {str(s): v for s, v in sorted(row.items())} for c, row in cells.items()}


def _fmt(value) -> str:
    return "" if value is None else f"{value:.1f}"


def table_rows(doc: dict) -> tuple[list[str], list[list[str]], list[tuple[str, str]]]:
    """Header, rows (corruption, severity 1..5, mean[, CE]; perturbation, FP, T5D[, FR]) and summary
    lines of the main metric."""
    if doc.get("summary") == "stability":
        return _stability_rows(doc)
    sevs = doc["severities"]
    error = not metrics.higher_is_better(doc["metric"])  # an error: CE / mCE, not P / mPC
    # unnormalised CE is the mean error itself: no second column for it
    with_ce = error and doc["normalisation"] != "unnormalised"
    header = ["corruption", *(str(s) for s in sevs), "mean"] + (["CE"] if with_ce else []) + (["rel. CE"] if error else [])
    rows = []
    for name in doc["corruptions"]:
        row = doc["cells"].get(name, {})
        values = [row.get(str(s)) for s in sevs]
        present = [v for v in values if v is not None]
        line = [name, *(_fmt(v) for v in values), _fmt(sum(present) / len(present) if present else None)]
        if with_ce:
            line.append(_fmt(doc["CE"].get(name)))
        if error:
            line.append(_fmt((doc["relative_CE"] or {}).get(name)))
        rows.append(line)
    if error:
        norm = {"alexnet": "AlexNet-normalised", "unnormalised": "unnormalised mean"}.get(doc["normalisation"], f"normalised by {doc['normalisation']}")
        summary = [("clean error", _fmt(doc["clean_error"])), (f"mCE ({norm})", _fmt(doc["mCE"])),
                   (f"relative mCE ({norm})", _fmt(doc["relative_mCE"]))]  # fmt: skip
    else:
        summary = [(f"P (clean {doc['metric']})", _fmt(doc["P"])), ("mPC", _fmt(doc["mPC"])), ("rPC [%]", _fmt(doc["rPC"]))]
        for name, extra in (doc.get("additional") or {}).items():
            summary += [(f"P ({name})", _fmt(extra["P"])), (f"mPC ({name})", _fmt(extra["mPC"])), (f"rPC ({name}) [%]", _fmt(extra["rPC"]))]
    return header, rows, summary


def markdown(doc: dict) -> str:
    if doc.get("summary") == "shift":
        return shift_markdown(doc)
    if doc.get("summary") == "grouped":
        return grouped_markdown(doc)
    header, rows, summary = table_rows(doc)
    stability = doc.get("summary") == "stability"
    what = "per perturbation sequence" if stability else "per corruption and severity"
    lines = [f"{doc['dataset']}: {doc['metric']} {what}" + (" (PARTIAL)" if doc["partial"] else ""), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "| summary | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in summary]
    if stability:
        if doc.get("difficulty", 1) > 1:
            lines += ["", f"Difficulty {doc['difficulty']} (test.py --difficulty): the noise sequences' "
                          f"<name>_{doc['difficulty']} trees, the other sequences' frames {doc['difficulty']} apart."]  # fmt: skip
        if not doc["test_grid"]:
            lines += ["", f"Averaged over {len(doc['averaged'])} test perturbations, not the benchmark's 10: "
                          "not comparable with published numbers."]  # fmt: skip
    elif not doc["benchmark_grid"]:
        lines += ["", f"Averaged over the {len(doc['corruptions'])} corruptions x severities {doc['severities']} built, "
                      "not the benchmark's 15 x 1-5 (MNIST-C: 15 x 1; C-bar: 10 x 1-5): not comparable with "
                      "published numbers."]  # fmt: skip
    if doc.get("coverage"):
        lines += ["", doc["coverage"]["note"]]
    for name, why in (doc.get("why_null") or {}).items():
        lines += ["", f"{name} is empty: {why}."]
    if doc["partial"]:
        lines += ["", f"PARTIAL: missing cells {', '.join(doc['missing_cells'])}."]
    return "\n".join(lines) + "\n"


def csv_text(doc: dict) -> str:
    if doc.get("summary") == "shift":
        return shift_csv(doc)
    if doc.get("summary") == "grouped":
        return grouped_csv(doc)
    header, rows, summary = table_rows(doc)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    for key, value in summary:
        writer.writerow([key, value])
    return buffer.getvalue()


def _figure_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _stability_plot(doc: dict) -> bytes:
    """FP and T5D per perturbation sequence, side by side; test perturbations dark, validation ones light."""
    import matplotlib.pyplot as plt

    names = doc["perturbations"]
    panels = [("flip probability", "FP (%)")] + ([("top-5 distance", "T5D")] if any(
        "top-5 distance" in doc["cells"].get(n, {}) for n in names) else [])  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels) + 1, 0.35 * len(names) + 1.5), dpi=100, squeeze=False)
    colours = ["#1f4e79" if n in doc["averaged"] else "#9dc3e6" for n in names]
    for ax, (metric, label) in zip(axes[0], panels):
        values = [doc["cells"].get(n, {}).get(metric, 0.0) for n in names]
        ax.barh(range(len(names)), values, color=colours)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    head = f"mFR {doc['mFR']:.1f}% ({doc['normalisation']})" if doc["mFR"] is not None else f"mFP {_fmt(doc['mFP'])}%"
    axes[0][0].set_title(f"{doc['dataset']} ({doc['profile']}): {head}" + (" (partial)" if doc["partial"] else ""), loc="left")
    return _figure_png(fig)


def plot_png(doc: dict) -> bytes:
    """The metric against severity 0 (clean) to 5, one line per corruption, the mean in bold (a
    perturbation build: FP and T5D per sequence)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if doc.get("summary") == "stability":
        return _stability_plot(doc)

    error = not metrics.higher_is_better(doc["metric"])
    clean = doc["clean_error"] if error else doc["P"]
    sevs = doc["severities"]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    colors = plt.get_cmap("tab20")
    means = []
    for i, name in enumerate(doc["corruptions"]):
        row = doc["cells"].get(name, {})
        xs = ([0] if clean is not None else []) + [s for s in sevs if str(s) in row]
        ys = ([clean] if clean is not None else []) + [row[str(s)] for s in sevs if str(s) in row]
        ax.plot(xs, ys, color=colors(i % 20), linewidth=1, marker="o", markersize=3, label=name)
    for s in sevs:
        present = [doc["cells"][c][str(s)] for c in doc["corruptions"] if str(s) in doc["cells"].get(c, {})]
        if present:
            means.append((s, sum(present) / len(present)))
    xs = ([0] if clean is not None else []) + [s for s, _ in means]
    ys = ([clean] if clean is not None else []) + [v for _, v in means]
    ax.plot(xs, ys, color="black", linewidth=3, marker="o", label="mean")
    ax.set_xticks([0, *sevs], ["clean", *map(str, sevs)])
    ax.set_xlabel("severity")
    ax.set_ylabel(doc["metric"] + (" (%)" if error else ""))
    title = f"{doc['dataset']}: " + (f"mCE {doc['mCE']:.1f} ({doc['normalisation']})" if error
                                     else f"P {_fmt(doc['P'])}, mPC {_fmt(doc['mPC'])}, rPC {_fmt(doc['rPC'])}%")  # fmt: skip
    ax.set_title(title + (" (partial)" if doc["partial"] else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _figure_png(fig)


def write_summary(doc: dict, out: Path) -> list[Path]:
    """Render everything first, then write: a failure leaves no half-written report. A natural shift's
    accuracy has no plot of its own (the robustness table over several runs draws one)."""
    files = {"results.json": (json.dumps(doc, indent=2) + "\n").encode(), "table.md": markdown(doc).encode(),
             "table.csv": csv_text(doc).encode()}  # fmt: skip
    if doc.get("summary") not in ("shift", "grouped"):
        files["plot.png"] = plot_png(doc)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        atomic_write(out / name, data)
    return [out / name for name in files]
