"""The writer protocol: a shard's outputs in, durable bytes out, and the way back from a manifest row.

A writer takes one shard's outputs, sample by sample (:meth:`Writer.add`), and makes them durable
at :meth:`Writer.close`; the engine writes the shard's manifests only after that, so a manifest
on disk means its outputs are complete. Used as a context manager, a shard that stops on an error
closes its writer too (what it holds open is released; nothing half-written is left under a final
name). Adapters say what an output and its targets are (bytes, names); writers decide how they are
stored, and read them back for ``verify`` and evaluation (:meth:`Writer.read`, :meth:`Writer.pixels`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corruptgen.datasets.base import Adapter, CarriedFile, Sample
from corruptgen.files import atomic_write, contained, link_or_copy


def place(out: Path, target: str, item: CarriedFile) -> None:
    """A carried annotation file at ``target`` under ``out``: rewritten bytes, or a hard link / copy."""
    if item.data is not None:
        atomic_write(contained(out, target), item.data)
    else:
        link_or_copy(item.source, contained(out, target))


class Writer:
    """One shard's outputs of every corruption/severity tree, for one ``--output-format``."""

    def __init__(self, adapter: Adapter, out: Path, shard: int, cells=()):
        """``cells``: every (corruption, severity) of the build, in its order."""
        self.adapter, self.out, self.shard = adapter, Path(out), shard

    @classmethod
    def refuse(cls, adapter: Adapter, out: Path, cells: list[tuple[str, int]], samples: list[Sample]) -> None:
        """Before anything is written: DatasetError when ``out`` holds outputs these cannot join."""

    @staticmethod
    def prepare(adapter: Adapter, out: Path, trees: dict[tuple[str, int], str], moved: frozenset[str],
                samples: list[Sample] = (), profile: str | None = None) -> set[tuple[str, int]] | None:  # fmt: skip
        """Before any shard runs: make every tree ready to receive outputs (``trees``: (corruption,
        severity) -> tree path under ``out``; ``moved``: corruptions whose annotations move;
        ``samples``: the build's). Returns the cells whose outputs written earlier were found damaged
        and dropped (their manifests no longer hold), or None."""
        raise NotImplementedError

    @staticmethod
    def finish(adapter: Adapter, tree: Path, rows: list[dict]) -> None:
        """After a moved tree is complete: its dataset-level annotation files from its manifest rows."""

    def add(self, cell: tuple[str, int], tree: str, sample: Sample, pixels: np.ndarray, moved_files: dict[str, bytes],
            fields: dict) -> dict:  # fmt: skip
        """Store one output of ``cell`` (and its moved annotation files) in ``tree``; return its manifest fields."""
        raise NotImplementedError

    def close(self) -> None:
        """Make every output of the shard durable under its final name."""
        raise NotImplementedError

    def abort(self) -> None:
        """Release what is open after an error; what was not closed is left for the rerun to overwrite."""
        self.adapter.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.close() if kind is None else self.abort()

    @classmethod
    def read(cls, out: Path, row: dict) -> bytes:
        """The bytes a manifest row's ``sha256`` covers. Raises OSError, KeyError or EOFError when
        they cannot be had (the callers name the row)."""
        raise NotImplementedError

    @classmethod
    def pixels(cls, out: Path, row: dict) -> np.ndarray:
        """A manifest row's image, decoded: uint8 H x W grey or H x W x 3 RGB. Raises
        :class:`~corruptgen.datasets.SampleError` naming the output when it cannot be read."""
        raise NotImplementedError
