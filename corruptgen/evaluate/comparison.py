"""Runs of one benchmark side by side: the table of the test-time adaptation papers.

Each results folder (``evaluate`` scored it: its ``results.json``) is one row, named by its adaptation
(``source`` without one, else ``bn`` / ``tent`` / ``rpl`` with the protocol and batch size beside it, from
``run.json``): clean error, the mean over corruptions of the error at the highest severity scored (severity 5:
what TENT's and mariodoebler's tables report), that error per corruption, and mCE as ``evaluate`` gives it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .results import read_json, read_run
from .tree import EvaluationError


def label_of(run: dict) -> str:
    adaptation = run.get("adaptation")
    if not adaptation:
        return "source"
    method, protocol = adaptation["method"], adaptation["protocol"]
    extra = f", N={adaptation['bn_prior']}" if method == "bn" and adaptation.get("bn_prior") else ""
    return f"{method} ({protocol}, batch {adaptation['batch_size']}{extra})"


def comparison_table(results: list[Path]) -> dict:
    rows, corruptions, severity = [], [], None
    for folder in results:
        doc = read_json(Path(folder) / "results.json", "results summary")
        if doc.get("metric") != "top-1 error":
            raise EvaluationError(f"{folder} is not a classification run of a -C tree; side by side, runs of one "
                                  "benchmark are compared.")  # fmt: skip
        sevs = [int(s) for s in doc["severities"]]
        severity = max(sevs) if severity is None else severity
        if severity not in sevs:
            raise EvaluationError(f"{folder} holds no severity {severity}; compare runs over the same severities.")
        cells = {c: row.get(str(severity)) for c, row in doc["cells"].items()}
        corruptions = corruptions or list(doc["corruptions"])
        present = [v for v in cells.values() if v is not None]
        run = read_run(Path(folder))
        rows.append({"label": label_of(run), "model": run.get("model"), "results": Path(folder).name,
                     "clean_error": doc.get("clean_error"), "mean_error": sum(present) / len(present) if present else None,
                     "errors": cells, "mCE": doc.get("mCE"), "normalisation": doc.get("normalisation"),
                     "adaptation": run.get("adaptation")})  # fmt: skip
    return {"summary": "comparison", "severity": severity, "corruptions": corruptions, "rows": rows}


def _f(v) -> str:
    return "" if v is None else f"{v:.1f}"


def comparison_markdown(table: dict) -> str:
    head = ["method", "model", "clean", f"mean (severity {table['severity']})", *table["corruptions"], "mCE"]
    lines = [f"Top-1 error (%) at severity {table['severity']}, and mCE", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]  # fmt: skip
    for r in table["rows"]:
        lines.append("| " + " | ".join([r["label"], str(r["model"]), _f(r["clean_error"]), _f(r["mean_error"]),
                                        *(_f(r["errors"].get(c)) for c in table["corruptions"]), _f(r["mCE"])]) + " |")
    norms = sorted({str(r["normalisation"]) for r in table["rows"]})
    said = "the mean error (no baseline)" if norms == ["unnormalised"] else f"normalised by {', '.join(norms)}"
    lines += ["", f"mCE: {said}. Adapted rows: the stream shuffled with the run's seed, one pass; the protocol and batch "
              "size as named (run.json records every setting)."]
    return "\n".join(lines) + "\n"


def comparison_csv(table: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["method", "model", "clean_error", "mean_error", *table["corruptions"], "mCE"])
    for r in table["rows"]:
        writer.writerow([r["label"], r["model"], r["clean_error"], r["mean_error"],
                         *(r["errors"].get(c) for c in table["corruptions"]), r["mCE"]])  # fmt: skip
    return buffer.getvalue()
