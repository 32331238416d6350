"""``corruptgen evaluate``: score a results folder against a tree; P/mPC/rPC or CE/mCE, table, plot."""

from __future__ import annotations

import json
from pathlib import Path

import click

from corruptgen.evaluate import Tree, evaluate
from corruptgen.evaluate.comparison import comparison_csv, comparison_markdown, comparison_table
from corruptgen.evaluate.shifts import read_fits, robustness_csv, robustness_markdown, robustness_plot, robustness_table
from corruptgen.evaluate.summary import markdown
from corruptgen.files import atomic_write

from .options import clean_errors, parse_severities, parse_tree_names


@click.command("evaluate")
@click.argument("tree", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--results", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True, multiple=True,
              help="The runner's folder: clean.json and <corruption>/<severity>.json. Several: with TREE, runs of it "
                   "side by side (source, bn, tent, rpl: the TTA papers' table); without, one robustness table over "
                   "natural-shift runs (and ImageNet-C's), per model.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write results.json, table.md, table.csv and plot.png here (default: --results).")
@click.option("--partial", is_flag=True, help="Score the cells that have results; the summary says it is partial.")
@click.option("--baseline", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Classification: another model's results folder on the same tree, to normalise CE by.")
@click.option("--src", type=click.Path(exists=True, path_type=Path), default=None,
              help="The clean source, where it moved since the build.")
@click.option("--corruptions", default=None, help="Score and average only these (names or groups, e.g. benchmark: "
              "CIFAR-10-C's published 15 of its 19; a perturbation build's names, test or validation). Default: "
              "every cell of the tree.")
@click.option("--severities", default=None, help="Only these severities, e.g. 5. Default: every built one.")
@click.option("--difficulty", type=click.IntRange(1, 3), default=1, show_default=True,
              help="A perturbation build scored as ImageNet-P's test.py --difficulty: the noise sequences' <name>_N "
                   "trees, the others' frames N apart (1: the benchmark's).")
@click.option("--fit", "fit_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Several --results: refit effective robustness's baselines from your own pool of standard models (a "
                   "CSV: model, then one top-1 column per setting: val, imagenet-r, val-on-imagenet-r-classes, ...).")
@click.option("--transform", type=click.Choice(["logit", "probit"]), default="logit", show_default=True,
              help="Several --results: the axes of effective robustness's fit.")
@clean_errors
def evaluate_command(tree, results, out, partial, baseline, src, corruptions, severities, difficulty, fit_csv,
                     transform) -> None:  # fmt: skip
    """Score --results against TREE (a built tree; omit it for an --on-the-fly run's results)
    and print the table. Detection: P, mPC, rPC (COCO AP, VOC AP50, Cityscapes AP);
    classification: top-1 error, CE, mCE, relative mCE; natural shifts: top-1 / top-5 accuracy. Several
    --results: each scored, then one robustness table (ImageNet accuracy, each shift's accuracy, drop and
    effective robustness, ImageNet-O's AUPR, ImageNet-C's mCE) per model, and its figure."""
    if len(results) > 1:
        if tree is not None:  # runs of one -C tree (source and adapted): the TTA papers' table
            _comparison(Tree.open(tree, src), results, out, partial, corruptions, severities)
        else:
            _robustness(results, out, src, fit_csv, transform)
        return
    results = results[0]
    opened = Tree.open(tree if tree is not None else results, src)
    doc = evaluate(opened, results, out or results, partial=partial, baseline=baseline,
                   corruptions=parse_tree_names(corruptions, opened),
                   severities=parse_severities(severities) if severities else None, difficulty=difficulty)  # fmt: skip
    click.echo(markdown(doc), nl=False)
    written = "results.json, table.md and table.csv" if doc.get("summary") == "shift" else "results.json, table.md, table.csv and plot.png"
    click.echo(f"\nWrote {written} to {out or results}.", err=True)


def _comparison(tree: Tree, results: tuple[Path, ...], out: Path | None, partial: bool, corruptions, severities) -> None:
    """Each results folder scored against TREE, then one row per run: source, bn, tent, rpl side by side."""
    names = parse_tree_names(corruptions, tree)
    sevs = parse_severities(severities) if severities else None
    for folder in results:
        evaluate(tree, folder, folder, partial=partial, corruptions=names, severities=sevs)
    table = comparison_table(list(results))
    _publish(out or Path("comparison"), "comparison", table, comparison_markdown(table), comparison_csv(table))


def _robustness(results: tuple[Path, ...], out: Path | None, src: Path | None, fit_csv: Path | None, transform: str) -> None:
    """Each results folder scored against its own record (a natural-shift run or an ImageNet-C run), then
    the table over them, written to --out (default: the current folder's robustness/)."""
    for folder in results:
        if not (folder / "results.json").is_file() or (folder / "corruptgen.json").is_file():
            evaluate(Tree.open(folder, src), folder, folder)
    fits = read_fits(fit_csv, transform) if fit_csv else None
    table = robustness_table(list(results), fits, transform)
    plotted = any(s != "imagenet-o" for s in table["shifts"])  # the figure's axes are ID and OOD top-1
    _publish(out or Path("robustness"), "robustness", table, robustness_markdown(table), robustness_csv(table),
             robustness_plot(table) if plotted else None)  # fmt: skip


def _publish(out: Path, stem: str, table: dict, text: str, csv_text: str, png: bytes | None = None) -> None:
    """A table over several runs as ``<stem>.json``, ``.md``, ``.csv`` (and ``.png``) in ``out``, and on stdout."""
    files = {f"{stem}.json": (json.dumps(table, indent=2, default=str) + "\n").encode(), f"{stem}.md": text.encode(),
             f"{stem}.csv": csv_text.encode(), **({f"{stem}.png": png} if png is not None else {})}  # fmt: skip
    for name, data in files.items():
        atomic_write(out / name, data)
    click.echo(text, nl=False)
    click.echo(f"\nWrote {', '.join(files)} to {out}.", err=True)
