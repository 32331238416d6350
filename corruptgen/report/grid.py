"""The report's picture grid: a few samples, each in the clean cell and every built cell, as small
JPEG thumbnails; each links to the full image, and on the clean image and every geometric cell the
annotations it is scored against are drawn (from the moved annotations where a warp moved them).

Images are read through :class:`corruptgen.evaluate.Tree`, so folder trees, WebDataset shards and
the release arrays (MNIST-C, CIFAR-C) all work; full images a browser cannot open where they are
(inside a tar or an array) are written as PNG into the report's ``<name>_files/`` folder.
"""

from __future__ import annotations

import base64
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from corruptgen.datasets import Sample, SampleError
from corruptgen.evaluate.tasks import task_for
from corruptgen.evaluate.tasks.registry import kinds
from corruptgen.evaluate.tree import Cell, EvaluationError, Tree

VIEWABLE = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".mp4"}
"""Built files a browser opens by themselves (not a tar shard or an array)."""
THUMB_SIDE = 128
"""Longest side of a thumbnail in pixels; smaller images keep their size and are drawn enlarged."""


@dataclass
class Shape:
    """One annotation drawn over a thumbnail, in the full image's pixel coordinates (COCO's
    continuous frame: pixel ``i`` spans ``[i, i + 1)``)."""

    box: tuple[float, float, float, float]  # x, y, width, height
    polygons: list[list[float]] = field(default_factory=list)  # flat x, y lists
    label: str = ""


@dataclass
class Thumb:
    cell: Cell
    width: int = 0
    height: int = 0
    data_uri: str | None = None
    href: str | None = None
    problem: str | None = None
    shapes: list[Shape] | None = None  # None: no annotations drawn on this cell


def choose_samples(samples: list[Sample], n: int) -> list[Sample]:
    """``n`` samples spread evenly over the build's order (the first, the last, and between): the
    same ones on every run of the report.

    >>> [s for s in choose_samples(list("abcdefghij"), 3)]
    ['a', 'f', 'j']
    """
    if n <= 0 or not samples:
        return []
    if n >= len(samples):
        return list(samples)
    if n == 1:
        return [samples[0]]
    return [samples[int(i * (len(samples) - 1) / (n - 1) + 0.5)] for i in range(n)]  # half up


def filmstrip(frames: np.ndarray) -> np.ndarray:
    """A sequence's first, middle and last frames side by side (what a perturbation sweeps over)."""
    return np.concatenate([frames[0], frames[len(frames) // 2], frames[-1]], axis=1)


def thumbnail_uri(pixels: np.ndarray) -> str:
    """An RGB image as a ``data:image/jpeg`` URI of at most :data:`THUMB_SIDE` pixels a side."""
    height, width = pixels.shape[:2]
    scale = THUMB_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Annotations:
    """The ground truth a detection task scores each cell against, as shapes per sample."""

    def __init__(self, tree: Tree):
        self.tree = tree
        default = next(iter(kinds(tree.dataset)), None)
        self.task = task_for(tree) if default == "detection" else None
        self.notes: list[str] = []

    def drawn_on(self, cell: Cell) -> bool:
        """The clean image and every cell whose corruption moved the annotations."""
        return self.task is not None and (cell is None or self.tree.moved_root(cell) is not None)

    def shapes(self, cell: Cell, sample: Sample) -> list[Shape] | None:
        try:
            truth = self.task.truth(cell)
        except EvaluationError as exc:
            note = f"annotations of {'clean' if cell is None else '/'.join(map(str, cell))} not drawn: {exc}"
            if note not in self.notes:
                self.notes.append(note)
            return None
        image_id = self.task.sample_id(sample)
        if isinstance(truth, dict):  # VOC: image id -> (labels, boxes x0 y0 x1 y1, difficult)
            found = truth.get(image_id)
            if found is None:
                return []
            labels, boxes, _ = found
            return [Shape((b[0], b[1], b[2] - b[0], b[3] - b[1]), label=str(label)) for label, b in zip(labels, boxes)]
        shapes = []
        for ann in truth.loadAnns(truth.getAnnIds(imgIds=[image_id])):  # COCO (and Cityscapes, COCO-style)
            segmentation = ann.get("segmentation")
            polygons = [list(map(float, p)) for p in segmentation] if isinstance(segmentation, list) else []
            shapes.append(Shape(tuple(map(float, ann["bbox"])), polygons, str(ann.get("category_id", ""))))
        return shapes


class Grid:
    """Thumbnails of chosen samples in the clean cell and each of ``cells``."""

    def __init__(self, tree: Tree, cells: list[tuple[str, int]], rows: dict[tuple[str, int], dict[str, dict]], report: Path):
        self.tree, self.cells, self.rows = tree, cells, rows
        self.report_dir = report.parent
        self.files_dir = report.parent / f"{report.stem}_files"
        self.annotations = Annotations(tree)

    def row(self, sample: Sample) -> list[Thumb]:
        """The sample's thumbnail in the clean cell and every cell, in order."""
        rows = [self.rows[cell].get(sample.key) for cell in self.cells]
        # the clean image on its own: a source that cannot be read leaves the built cells readable
        try:
            clean = self.tree.load(sample, (None,), (None,))
        except EvaluationError as exc:  # the source moved or is gone
            clean = [(None, str(exc))]
        loaded = clean + self.tree.load(sample, tuple(self.cells), tuple(rows))
        thumbs = []
        for cell, row, (pixels, problem) in zip([None, *self.cells], [None, *rows], loaded, strict=True):
            thumb = Thumb(cell, problem=problem)
            if pixels is not None and pixels.ndim == 4:
                pixels = filmstrip(pixels)
            if pixels is not None:
                thumb.height, thumb.width = pixels.shape[:2]
                thumb.data_uri = thumbnail_uri(pixels)
                thumb.href = self._full_image(sample, cell, row, pixels)
                if self.annotations.drawn_on(cell):
                    thumb.shapes = self.annotations.shapes(cell, sample)
            thumbs.append(thumb)
        return thumbs

    def _full_image(self, sample: Sample, cell: Cell, row: dict | None, pixels: np.ndarray) -> str:
        """A link to the full image: the built file itself in a folder tree, else a PNG written beside."""
        if row is not None and self.tree.root is not None and row.get("output"):
            built = self.tree.root / row["output"]
            if built.suffix.lower() in VIEWABLE and built.is_file():
                return _relative(built, self.report_dir)
        name = f"{zlib.crc32(sample.key.encode()):08x}-{'clean' if cell is None else f'{cell[0]}-{cell[1]}'}.png"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(self.files_dir / name)
        return _relative(self.files_dir / name, self.report_dir)


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def samples_of(tree: Tree, n: int) -> tuple[list[Sample], str | None]:
    """``n`` samples of the tree, and a sentence when its clean source cannot be read (the samples
    then come from the manifests, and the clean column stays empty)."""
    if n == 0:
        return [], None
    try:
        return choose_samples(tree.samples(), n), None
    except (EvaluationError, SampleError, OSError, ValueError) as exc:
        note = f"the clean source cannot be read ({exc})"
    try:
        keys = tree.manifest_rows(tree.cells[0]) if tree.cells else {}
    except EvaluationError:
        keys = {}
    samples = [Sample(key=k, source=str(r.get("source", k)), output=str(r.get("output", k))) for k, r in sorted(keys.items())]
    return choose_samples(samples, n), note
