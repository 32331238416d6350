"""What a runner or ``evaluate`` reads: a built tree (or an on-the-fly plan) and its clean source.

A :class:`Tree` knows the dataset kind, the clean source (through the build's own adapter, so
clean images are read, and for ImageNet preprocessed, exactly as the build read them), the
corruption/severity cells, and how to get each cell's image for a sample: from the built files
through the manifests, or computed in memory with the build's seeds (``on_the_fly``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from corruptgen.datasets import ADAPTERS, NATURAL_SHIFTS, Adapter, Sample, SampleError, adapter_from_identity
from corruptgen.pipeline.layout import STATE_FILE, LayoutError, read_rows, read_state, shard_manifests, tree_name
from corruptgen.pipeline.recipe import (
    catalogue_order,
    corrupt_sample,
    is_sequence_profile,
    refuse_moving_content,
    warped_corruptions,
)
from corruptgen.writers import Writer, writer_for

Cell = tuple[str, int] | None
"""``None`` is the clean cell; otherwise ``(corruption, severity)``."""


class EvaluationError(ValueError):
    """An expected mistake (missing file, bad results, wrong model output); the message names it."""


def cell_name(cell: Cell) -> str:
    return "clean" if cell is None else f"{cell[0]} severity {cell[1]}"


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """H x W grey or H x W x 3 RGB uint8 -> H x W x 3 RGB uint8 (what every model receives)."""
    return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels


def frames_rgb(frames: np.ndarray) -> np.ndarray:
    """A sequence's frames, T x H x W (x 1) grey or T x H x W x 3 RGB -> T x H x W x 3 RGB uint8."""
    if frames.ndim == 4 and frames.shape[3] == 3:
        return frames
    return np.repeat(frames.reshape(*frames.shape[:3], 1), 3, axis=3)


@dataclass
class Tree:
    identity: dict
    cells: list[tuple[str, int]]
    root: Path | None = None
    on_the_fly: bool = False
    built_samples: int | None = None
    """How many of the source's samples the build wrote (its ``--limit``); None: all of them."""
    scored_split: str | None = None
    """The split scored where the tree holds several (MNIST's train and test); None: every sample."""
    _rows: dict = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path, src: Path | None = None) -> Tree:
        """Read ``path/corruptgen.json`` (a build, or the results folder of an on-the-fly run)."""
        path = Path(path)
        state_path = path / STATE_FILE
        if not state_path.is_file():
            raise EvaluationError(f"{path} holds no {STATE_FILE}; give a tree written by `corruptgen build` "
                                  "(or the results folder of an --on-the-fly run).")  # fmt: skip
        try:
            state = read_state(path)
            identity = dict(state["identity"])
            cells = [(str(c), int(s)) for c, s in state["built"]]
            limit = (state.get("options") or {}).get("limit")
            built_samples = None if limit is None else int(limit)
        except LayoutError as exc:
            raise EvaluationError(f"{exc}.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{state_path} is damaged ({type(exc).__name__}: {exc}).") from None
        if identity.get("dataset") not in ADAPTERS:
            raise EvaluationError(f"{state_path} names dataset {identity.get('dataset')!r}; valid kinds are {', '.join(ADAPTERS)}.")
        if src is not None:
            identity["source"] = str(src)
        on_the_fly = bool(state.get("on_the_fly"))
        return cls(identity, cells, None if on_the_fly else path, on_the_fly, built_samples)

    @classmethod
    def plan(cls, dataset: str, src: Path | None, split: str | None, seed: int, profile: str,
             cells: list[tuple[str, int]], preprocess: bool = True, **shift) -> Tree:  # fmt: skip
        """An on-the-fly tree: nothing on disk, every cell computed in memory with the build's seeds.
        ``shift``: a natural shift's settings, recorded with the tree (``classes_of``: ImageNet restricted to
        a label space's classes; ``rule``: the scoring rule; ``border``: ObjectNet's crop)."""
        source = "bundled sample" if src is None else str(src)
        imagenet_like = dataset == "imagenet" or dataset in NATURAL_SHIFTS
        identity = {"dataset": dataset, "source": source, "split": split, "seed": seed, "profile": profile,
                    "image_format": "png", "jpeg_quality": 95,
                    "preprocessing": "resize256-centercrop224" if imagenet_like and preprocess else None}  # fmt: skip
        identity.update({k: v for k, v in shift.items() if v is not None})
        tree = cls(identity, cells, None, True)
        tree.identity["split"] = tree.adapter.split  # the adapter's default split, recorded explicitly (and
        # the adapter made now: an unknown kind or a missing --src is said before anything runs)
        found = tree.adapter.describe()
        for key in ("variant", "label_space", "border"):  # what the adapter found (ImageNet-V2's variant)
            if key in found and key not in tree.identity:
                tree.identity[key] = found[key]
        refuse_moving_content(tree.adapter, [c for c, _ in cells], profile)  # as a build does
        return tree

    def state(self) -> dict:
        """What an on-the-fly run records in its results folder so ``evaluate`` can read it back."""
        return {"identity": self.identity, "built": [list(c) for c in self.cells], "on_the_fly": True}

    @property
    def dataset(self) -> str:
        return self.identity["dataset"]

    @property
    def sequences(self) -> bool:
        """Whether the tree holds perturbation sequences (ImageNet-P, CIFAR-10-P): no clean cell, frames per sample."""
        return is_sequence_profile(self.identity.get("profile") or "imagenet")

    @cached_property
    def adapter(self) -> Adapter:
        source = self.identity.get("source")
        if source != "bundled sample" and not Path(source or "").exists():
            where = f"{self.root / STATE_FILE}" if self.root else "the run's record"
            raise EvaluationError(f"the clean source {source} recorded in {where} does not exist; pass --src with its current location.")
        return adapter_from_identity(self.identity)

    @cached_property
    def writer(self) -> type[Writer]:
        """How the tree's outputs are stored, and so read back."""
        return writer_for(self.identity.get("output_format"), ADAPTERS[self.dataset], self.sequences)

    def splits(self) -> list[str]:
        """The splits the tree holds in one sample list (MNIST built without --split: train and test, or
        those its --limit reached); empty when it holds one."""
        if self.identity.get("split") is not None or not self.adapter.scored_split:
            return []
        held = list(dict.fromkeys(self.adapter.split_of(s) for s in self._built))
        return held if len(held) > 1 else []

    @cached_property
    def _built(self) -> list[Sample]:
        """The source's samples the build wrote (its first ``--limit``), enumerated once."""
        samples = self.adapter.samples()
        return samples if self.built_samples is None else samples[: self.built_samples]

    def score_split(self, split: str | None) -> str | None:
        """Narrow scoring to ``split`` of a tree that holds several; None picks the one benchmarks report
        (MNIST-C's test split). Returns the split scored (None: the tree holds one, all of it scored)."""
        held = self.splits()
        if not held:
            if split is not None and split != self.identity.get("split"):
                raise EvaluationError(f"--split {split}: the tree holds the {self.identity.get('split') or 'one'} "
                                      "split only.")  # fmt: skip
            return None
        split = split or self.adapter.scored_split
        if split not in held:
            raise EvaluationError(f"--split {split}: the tree holds {' and '.join(held)}.")
        self.scored_split = split
        self.__dict__.pop("_usable", None)
        return split

    @cached_property
    def _usable(self) -> list[Sample]:
        # enumerated once: the runner, evaluate and the scoring tasks all ask for the samples; a build
        # with --limit wrote the first N of the source's samples, problems included
        samples = self._built
        if self.scored_split is not None:
            samples = [s for s in samples if self.adapter.split_of(s) == self.scored_split]
        return [s for s in samples if not s.problem]

    def samples(self, limit: int | None = None) -> list[Sample]:
        """The source's usable samples in the build's order (the first ``limit`` when given)."""
        return self._usable[:limit] if limit else list(self._usable)

    def moved_root(self, cell: Cell) -> Path | None:
        """Where a cell's own ground truth lives when its corruption moved the annotations (the
        built tree ``<out>/<corruption>/<severity>``, in the source's layout); None: the source's."""
        if cell is None or self.root is None:
            return None
        profile = self.identity.get("profile", "imagenet")
        if cell[0] not in warped_corruptions([cell[0]], profile, bool(self.identity.get("warp_annotations"))):
            return None
        return self.root / tree_name(cell[0], cell[1], profile, self.identity.get("severity_dirs", "severity"))

    def select(self, corruptions: list[str] | None, severities: list[int] | None) -> list[tuple[str, int]]:
        """The tree's cells, narrowed to the given corruptions and severities (None: all)."""
        cells = [(c, s) for c, s in self.cells if (corruptions is None or c in corruptions) and (severities is None or s in severities)]
        order = catalogue_order(self.identity.get("profile") or "imagenet")
        return sorted(cells, key=lambda cs: (order.get(cs[0], len(order)), cs[1]))

    def images(self, cell: Cell, samples: list[Sample]) -> Iterator[tuple[Sample, np.ndarray | None, str | None]]:
        """``(sample, RGB pixels, None)`` per sample, or ``(sample, None, message)`` where an image
        cannot be had (a failed build row, an unreadable file)."""
        rows = self.rows_for(cell, samples)
        for sample, row in zip(samples, rows, strict=True):
            (pixels, problem), = self.load(sample, (cell,), (row,))
            yield sample, pixels, problem

    def rows_for(self, cell: Cell, samples: list[Sample]) -> list[dict | None]:
        """Each sample's manifest row of a built cell (None for the clean cell, on the fly, or an output
        the build did not reach)."""
        if cell is None or self.on_the_fly:
            return [None] * len(samples)
        rows = self.manifest_rows(cell)
        return [rows.get(sample.key) for sample in samples]

    def load(self, sample: Sample, cells: tuple[Cell, ...], rows: tuple[dict | None, ...]) -> list[tuple[np.ndarray | None, str | None]]:
        """The sample's RGB image in each of ``cells`` (``rows``: its manifest row of each), or None and
        the sentence saying why it cannot be had. On the fly, the source is decoded once for all cells."""
        seed, profile = int(self.identity.get("seed") or 0), self.identity.get("profile") or "imagenet"
        out: list[tuple[np.ndarray | None, str | None]] = []
        source = None
        for cell, row in zip(cells, rows, strict=True):
            try:
                if cell is not None and not self.on_the_fly:
                    pixels = self.built_pixels(cell, row, sample)
                else:
                    if source is None:
                        source = self.adapter.load(sample)[0]
                    pixels = source if cell is None else corrupt_sample(source, self.dataset, sample.key, cell[0], cell[1],
                                                                        seed, profile)  # fmt: skip
            except SampleError as exc:
                if cell is None or self.on_the_fly:  # the source itself is unreadable: so is every cell of it
                    return out + [(None, str(exc))] * (len(cells) - len(out))
                out.append((None, str(exc)))
                continue
            out.append((frames_rgb(pixels) if self.sequences and cell is not None else as_rgb(pixels), None))
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_rows"] = {}  # manifest rows travel with the work that needs them
        state.pop("_built", None)  # the loader's units carry their samples
        return state

    def manifest_rows(self, cell: tuple[str, int]) -> dict[str, dict]:
        """A built cell's manifest rows by sample key (read once); EvaluationError naming a damaged file."""
        if cell not in self._rows:
            rows = {}
            for path in shard_manifests(self.root, *cell):
                try:
                    rows.update((row["key"], row) for row in read_rows(path))
                except LayoutError as exc:
                    raise EvaluationError(f"{exc}; rerun the build to rewrite it.") from None
            self._rows[cell] = rows
        return self._rows[cell]

    def built_pixels(self, cell, row: dict | None, sample: Sample) -> np.ndarray:
        """A built output's pixels from its manifest row; SampleError naming what is missing."""
        if row is None:
            raise SampleError(f"{sample.source}: no output for {cell_name(cell)} in {self.root} (the build did not reach it).")
        if row.get("status") != "ok":
            raise SampleError(row.get("error") or f"{sample.source}: the build recorded an error for {cell_name(cell)}.")
        return self.writer.pixels(self.root, row)
