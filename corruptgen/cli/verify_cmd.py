"""``corruptgen verify OUT``: check a build against its manifests."""

from __future__ import annotations

from pathlib import Path

import click

from corruptgen.datasets.base import generated_kind
from corruptgen.datasets.grouped import check_generated
from corruptgen.pipeline.verify import verify


@click.command("verify")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--details", is_flag=True, help="List every unfinished shard instead of one line saying how many.")
def verify_command(out: Path, details: bool) -> None:
    """Check that every output listed in OUT's manifests exists with its sha256, that the counts
    match corruptgen.json and that the annotation files parse. Exit 0 when all holds."""
    kind = generated_kind(out)
    if kind:  # a dataset generated from its source (Waterbirds, ...): its images against its metadata
        checked, problems = check_generated(out)
        ok = f"{out}: OK, all {checked:,} images its {kind} metadata lists are there."
    else:
        problems = verify(out, details)
        ok = f"{out}: OK, every output matches its manifest."
    if problems:
        for problem in problems[:50]:
            click.echo(f"  {problem}", err=True)
        if len(problems) > 50:
            click.echo(f"  ... and {len(problems) - 50} more.", err=True)
        raise click.ClickException(f"{out}: {len(problems)} problem(s) found.")
    click.echo(ok)
