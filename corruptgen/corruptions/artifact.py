"""Artifact family (MNIST-C): stripe, dotted_line, zigzag, canny_edges.

Drawn strokes, inverted bands and edge maps that no camera makes: MNIST-C's tests of whether
a classifier relies on shape. Coordinates are in MNIST-C's 28ths of the image, so a stroke is
as wide relative to a photograph as to a digit (:mod:`corruptgen.kernels.strokes`). MNIST-C
has one setting per corruption; the default profile's five severities bracket it, and each
docstring names the severity that equals it.
"""

from __future__ import annotations

from corruptgen.kernels import strokes

from .base import Corruption, Params, scale_free_tables

_LINES = ((1, 1.6), (1, 2.3), (2, 2.3), (3, 2.3), (4, 2.3))


class Stripe(Corruption):
    """Invert the outer ``fraction`` of the columns on each side; MNIST-C: 7 of 28 (0.25, severity 3)."""

    name = "stripe"
    family = "artifact"
    param_names = ("fraction",)
    random = False
    dtype = "uint8"
    tables = scale_free_tables((0.1, 0.175, 0.25, 0.325, 0.4), 0.25)

    def apply(self, image, p: Params):
        return strokes.invert_stripes(image, p.fraction)


class DottedLine(Corruption):
    """``lines`` dashed white lines across the image between random rows, ``stroke`` 28ths wide;
    MNIST-C: one line 2.3 wide (severity 2)."""

    name = "dotted_line"
    family = "artifact"
    param_names = ("lines", "stroke")
    tables = scale_free_tables(_LINES, (1, 2.3))

    def sample(self, rng, shape, p):
        return {"rows": rng.integers(0, 27, size=(p.lines, 2))}

    def apply(self, image, p: Params, *, rows):
        height, width = image.shape[:2]
        layer = sum(strokes.line_layer(height, width, 0, r0, 27, r1, stroke=p.stroke) for r0, r1 in rows)
        return strokes.add_layer(image, layer * strokes.dash_mask(width)[None, :])


class Zigzag(Corruption):
    """``lines`` zigzag strokes from column 2 to 25 at random rows, ``stroke`` 28ths wide; MNIST-C:
    one, 2.3 wide (severity 2), its odd last vertex kept."""

    name = "zigzag"
    family = "artifact"
    param_names = ("lines", "stroke")
    tables = scale_free_tables(_LINES, (1, 2.3))

    def sample(self, rng, shape, p):
        starts = rng.integers(0, 27, size=p.lines)
        return {"starts": starts, "rises": rng.integers(-5, 5, size=p.lines)}

    def apply(self, image, p: Params, *, starts, rises):
        height, width = image.shape[:2]
        layer = sum(strokes.polyline_layer(height, width, strokes.zigzag_points(r0, r0 + rise), stroke=p.stroke)
                    for r0, rise in zip(starts, rises))  # fmt: skip
        return strokes.add_layer(image, layer)


class CannyEdges(Corruption):
    """scikit-image's Canny edges (``sigma`` in 28ths of the shorter side) blended over the image with
    weight ``mix``; MNIST-C: the edges alone at sigma 1 (severity 4). Colour images are edge-detected
    on their luma."""

    name = "canny_edges"
    family = "artifact"
    param_names = ("sigma", "mix")
    random = False
    tables = scale_free_tables(((1, 0.25), (1, 0.5), (1, 0.75), (1, 1.0), (2, 1.0)), (1, 1.0))

    def apply(self, image, p: Params):
        return strokes.canny_edges(image, p.sigma, p.mix)

