"""``corruptgen evaluate``: score a results folder against a tree; P/mPC/rPC or CE/mCE, table, plot."""

from __future__ import annotations

from pathlib import Path

import click

from corruptgen.evaluate import Tree, evaluate
from corruptgen.evaluate.summary import markdown

from .options import clean_errors, parse_severities, parse_tree_names


@click.command("evaluate")
@click.argument("tree", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--results", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The runner's folder: clean.json and <corruption>/<severity>.json.")
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
@clean_errors
def evaluate_command(tree, results, out, partial, baseline, src, corruptions, severities, difficulty) -> None:
    """Score --results against TREE (a built tree; omit it for an --on-the-fly run's results)
    and print the table. Detection: P, mPC, rPC (COCO AP, VOC AP50, Cityscapes AP);
    classification: top-1 error, CE, mCE, relative mCE."""
    opened = Tree.open(tree if tree is not None else results, src)
    doc = evaluate(opened, results, out or results, partial=partial, baseline=baseline,
                   corruptions=parse_tree_names(corruptions, opened),
                   severities=parse_severities(severities) if severities else None, difficulty=difficulty)  # fmt: skip
    click.echo(markdown(doc), nl=False)
    click.echo(f"\nWrote results.json, table.md, table.csv and plot.png to {out or results}.", err=True)
