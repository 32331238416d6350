"""A -C release's arrays: one ``.npy`` per corruption, severity-major, and the labels beside them
(CIFAR-10-C, CIFAR-100-C, as ``make_cifar_c.py`` writes them and RobustBench reads them)::

    <out>/<folder>/<corruption>.npy   uint8 (S x N, H, W, C): severity 1's N images, then severity 2's, ...
    <out>/<folder>/labels.npy         uint8 (S x N,): the split's labels repeated S times

``S`` is the number of severities built (five for the release), ``<folder>`` what the adapter's
``release_folder()`` says (empty for the release's split). Shards write their rows straight into
the preallocated arrays (disjoint rows), so the bytes do not depend on shard size or workers. A
manifest row names the file and its ``index``; reading back is the folder tree's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corruptgen.datasets.base import Adapter, DatasetError
from corruptgen.files import contained, preallocate, sha256_bytes, write_labels

from .folder import FolderWriter


def severities_of(cells) -> dict[str, tuple[int, ...]]:
    """``{corruption: its severities in order}`` of a build's cells."""
    out: dict[str, list[int]] = {}
    for corruption, severity in cells:
        out.setdefault(corruption, []).append(severity)
    return {c: tuple(sorted(s)) for c, s in out.items()}


class MappedArrayWriter(FolderWriter):
    """Rows written straight into preallocated arrays (disjoint rows, so the bytes do not depend on
    shard size or workers), each array mapped once per shard and flushed at close."""

    def __init__(self, adapter: Adapter, out: Path, shard: int, cells=()):
        super().__init__(adapter, out, shard, cells)
        self.maps: dict[Path, np.ndarray] = {}

    def mapped(self, relative: str) -> np.ndarray:
        """The array at ``relative`` under ``--out``, mapped for writing (once per shard)."""
        path = contained(self.out, relative)
        if path not in self.maps:
            self.maps[path] = np.load(path, mmap_mode="r+")
        return self.maps[path]

    def write_row(self, relative: str, index: int, pixels: np.ndarray) -> dict:
        """Store ``pixels`` as row ``index`` of the array at ``relative``; its manifest fields."""
        array = self.mapped(relative)
        data = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(array.shape[1:])
        array[index] = data
        return {"output": relative, "index": index, "sha256": sha256_bytes(data.tobytes()), "bytes": data.nbytes}

    def close(self) -> None:
        for array in self.maps.values():
            array.flush()
        self.maps.clear()
        self.adapter.close()

    def abort(self) -> None:
        self.close()  # rows written stay; no manifest names them until the rerun writes the shard again


class ReleaseArrayWriter(MappedArrayWriter):
    """Rows of ``<corruption>.npy``; the labels once per build."""

    def __init__(self, adapter: Adapter, out: Path, shard: int, cells=()):
        super().__init__(adapter, out, shard, cells)
        self.severities = severities_of(cells)

    @staticmethod
    def _plan(adapter, out, cells, samples) -> tuple[tuple[int, ...], dict[Path, tuple[int, ...]]]:
        per_corruption = severities_of(cells)
        levels = set(per_corruption.values())
        if len(levels) > 1:
            detail = "; ".join(f"{c}: {list(s)}" for c, s in per_corruption.items())
            raise DatasetError(f"{adapter.name}'s release arrays share one labels.npy, so every corruption needs the same "
                               f"severities ({detail}); build the others into another --out, or pass --overwrite.")  # fmt: skip
        severities = levels.pop()
        image = adapter.load(samples[0])[0].shape
        folder = contained(Path(out), adapter.release_folder()) if adapter.release_folder() else Path(out)
        return severities, {folder / f"{c}.npy": (len(severities) * len(samples), *image) for c in per_corruption}

    @classmethod
    def refuse(cls, adapter, out, cells, samples) -> None:
        """Arrays of an earlier build of other severities cannot take these rows: say so before
        anything is written."""
        _, arrays = cls._plan(adapter, out, cells, samples)
        for path, shape in arrays.items():
            if path.is_file():
                try:
                    found = np.load(path, mmap_mode="r").shape
                except (OSError, ValueError):
                    continue  # damaged: prepare writes it again
                if found != shape:
                    raise DatasetError(f"{path} holds {found[0]} rows from an earlier build; these severities need "
                                       f"{shape[0]}. Build them into another --out, or pass --overwrite.")  # fmt: skip

    @staticmethod
    def prepare(adapter, out, trees, moved, samples=(), profile=None) -> set[tuple[str, int]]:
        """Preallocate every corruption's array (kept when a resumed build finds it whole) and write
        the labels; returns the cells of an array that was there but damaged (its rows are gone)."""
        severities, arrays = ReleaseArrayWriter._plan(adapter, out, list(trees), samples)
        lost = set()
        for path, shape in arrays.items():
            if preallocate(path, shape):
                lost |= {(path.stem, s) for s in severities}
        labels = np.tile(np.array([adapter.label(s) for s in samples], np.uint8), len(severities))
        write_labels(next(iter(arrays)).with_name("labels.npy"), labels)
        return lost

    def add(self, cell, tree, sample, pixels, moved_files, fields):
        corruption, severity = cell
        folder = self.adapter.release_folder()
        relative = f"{folder}/{corruption}.npy" if folder else f"{corruption}.npy"
        per_severity = len(self.mapped(relative)) // len(self.severities[corruption])
        row = self.severities[corruption].index(severity) * per_severity + self.adapter.index(sample)
        return self.write_row(relative, row, pixels)
