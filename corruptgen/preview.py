"""A labelled grid of corruptions x severities, to see the catalogue before building anything."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .api import corrupt


def sample_photo(name: str = "chelsea") -> np.ndarray:
    """A photograph that ships with scikit-image (no download), as an RGB uint8 array."""
    from skimage import data

    return np.asarray(getattr(data, name)())


def preview_grid(
    image: np.ndarray,
    corruptions: Sequence[str],
    severities: Sequence[int] = (1, 2, 3, 4, 5),
    *,
    tile: int = 160,
    seed: int = 0,
    profile: str = "imagenet",
) -> Image.Image:
    """Rows are corruptions, columns the clean image then each severity, all labelled.

    The image is fitted into ``tile`` pixels on its longer side before corrupting, so the
    grid shows the corruptions at the scale they are seen.
    """
    pil = Image.fromarray(image).convert("RGB")
    pil.thumbnail((tile, tile), Image.LANCZOS)
    clean = np.asarray(pil)
    th, tw = clean.shape[:2]
    font = ImageFont.load_default()
    label_w, header_h, pad = 130, 18, 4
    cols = 1 + len(severities)
    grid = Image.new("RGB", (label_w + cols * (tw + pad), header_h + len(corruptions) * (th + pad)), "white")
    draw = ImageDraw.Draw(grid)
    for c, title in enumerate(["clean", *[f"severity {s}" for s in severities]]):
        draw.text((label_w + c * (tw + pad) + 2, 3), title, fill="black", font=font)
    for r, name in enumerate(corruptions):
        y = header_h + r * (th + pad)
        draw.text((4, y + th // 2 - 6), name, fill="black", font=font)
        tiles = [clean] + [corrupt(clean, name, s, seed=seed, profile=profile) for s in severities]
        for c, pixels in enumerate(tiles):
            grid.paste(Image.fromarray(pixels), (label_w + c * (tw + pad), y))
    return grid
