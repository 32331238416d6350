"""``corruptgen preview``: a labelled picture of corruptions x severities."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from PIL import Image

from corruptgen.preview import preview_grid, sample_photo

from .options import clean_errors, corruptions_option, profile_option, resolve_selection, seed_option, severities_option


@click.command("preview")
@click.argument("image", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="preview.png", show_default=True)
@corruptions_option
@severities_option
@profile_option
@seed_option
@click.option("--tile", type=click.IntRange(16, 1024), default=160, show_default=True, help="Tile side in pixels.")
@clean_errors
def preview_command(image, out, corruptions, severities, profile, seed, tile) -> None:
    """Draw IMAGE under each corruption (rows) and severity (columns) into --out.

    Without IMAGE, a photograph bundled with scikit-image is used.
    """
    profile = profile or "imagenet"
    corruptions, severities = resolve_selection(corruptions, severities, profile)
    if image is None:
        click.echo("No IMAGE given: using scikit-image's bundled photo 'chelsea'.", err=True)
        pixels = sample_photo()
    else:
        try:
            with Image.open(image) as img:
                pixels = np.asarray(img.convert("RGB"))
        except OSError as exc:
            raise click.ClickException(f"{image} is not a readable image ({exc}).") from exc
    grid = preview_grid(pixels, corruptions, severities, tile=tile, seed=seed, profile=profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    click.echo(f"Wrote {out} ({len(corruptions)} corruptions x {len(severities)} severities).")
