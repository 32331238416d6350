"""``corruptgen report``: one self-contained HTML page of a built tree (and of evaluations of it)."""

from __future__ import annotations

from pathlib import Path

import click

from corruptgen.datasets.base import generated_kind
from corruptgen.report import write_report

from .options import clean_errors


@click.command("report")
@click.argument("target", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--results", "results", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A folder `corruptgen evaluate` wrote (its results.json); repeat it to set runs side by side.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write. Default: <TARGET>.html beside TARGET.")
@click.option("--samples", type=click.IntRange(0, 100), default=3, show_default=True,
              help="Samples shown in every cell, spread evenly over the build.")
@click.option("--src", type=click.Path(exists=True, path_type=Path), default=None,
              help="The clean source, where it moved since the build.")
@clean_errors
def report_command(target, results, out, samples, src) -> None:
    """Write an HTML page of TARGET (a built tree): the build, a thumbnail grid with annotations,
    and with --results each run's robustness side by side."""
    kind = generated_kind(target)
    if kind:
        raise click.ClickException(f"{target} is a {kind} dataset generated from its source, not a -C build; the report "
                                   f"draws builds: build its corrupted copies (corruptgen build {kind} --src {target} "
                                   "--out DIR --corruptions ...) and report those.")  # fmt: skip
    out = out or target.resolve().parent / f"{target.resolve().name}.html"
    written = write_report(target, out, results=list(results), samples=samples, src=src)
    click.echo(f"Wrote {written}.", err=True)
