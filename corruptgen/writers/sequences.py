"""Perturbation sequences (ImageNet-P, CIFAR-10-P), as their releases hold them::

    <out>/<perturbation>/<source-relative path>.mp4        one MP4 per image (ImageNet-P's
                                                          <perturbation>/<wnid>/<name>.mp4)
    <out>/<folder>/<perturbation>.npy                     uint8 (N, T, H, W, C): the samples' frames
    <out>/<folder>/labels.npy                             uint8 (N,)  (CIFAR-10-P's arrays; MNIST's)
    <out>/<perturbation>/<dataset>-NNNNNN.tar             --output-format webdataset: an .mp4 member
                                                          per sample, beside its .cls

``<perturbation>`` is the tree (``<name>_2`` / ``_3`` for the noise sequences' difficulties 2 and
3). A manifest row's output is one sequence; :meth:`pixels` gives its frames back, ``T x H x W x C``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np

from corruptgen.corruptions.sequences import get_sequence
from corruptgen.datasets.base import Adapter, DatasetError, SampleError
from corruptgen.files import atomic_write, contained, sha256_bytes

from .arrays import MappedArrayWriter, preallocate, write_labels
from .base import Writer
from .folder import _mapped
from .video import decode_mp4, encode_mp4, read_mp4, require_av
from .webdataset import TarWriter


def _video(adapter: Adapter, cell: tuple[str, int], frames: np.ndarray) -> bytes:
    return encode_mp4(frames, grain=get_sequence(cell[0]).noise, mode=adapter.settings.video)


def _in(folder: str, name: str) -> str:
    """``name`` in an array dataset's folder under ``--out`` (``""``: the top)."""
    return f"{folder}/{name}" if folder else name


def video_name(output: str) -> str:
    """A sample's output path with the ``.mp4`` extension (ImageNet-P: ``n01440764/ILSVRC2012_val_00000293.mp4``)."""
    return str(PurePosixPath(output).with_suffix(".mp4"))


def _refuse_without_pyav() -> None:
    """DatasetError before anything is written when the video extra is not installed."""
    try:
        require_av()
    except RuntimeError as exc:
        raise DatasetError(str(exc)) from None


class VideoFolderWriter(Writer):
    """One MP4 per sample and perturbation, where the source's layout puts its image."""

    @classmethod
    def refuse(cls, adapter, out, cells, samples) -> None:
        _refuse_without_pyav()

    @staticmethod
    def prepare(adapter, out, trees, moved, samples=(), profile=None) -> None:
        for tree in trees.values():
            root = contained(out, tree)
            for name in adapter.tree_dirs():
                contained(root, name).mkdir(parents=True, exist_ok=True)
            root.mkdir(parents=True, exist_ok=True)

    def add(self, cell, tree, sample, pixels, moved_files, fields):
        data = _video(self.adapter, cell, pixels)
        relative = f"{tree}/{video_name(sample.output)}"
        atomic_write(contained(self.out, relative), data)
        return {"output": relative, "sha256": sha256_bytes(data), "bytes": len(data), "frames": int(len(pixels))}

    def close(self) -> None:
        self.adapter.close()

    @classmethod
    def read(cls, out, row):
        return (Path(out) / row["output"]).read_bytes()

    @classmethod
    def pixels(cls, out, row):
        try:
            return read_mp4(Path(out) / row["output"])
        except ValueError as exc:
            raise SampleError(str(exc)) from None


class SequenceArrayWriter(MappedArrayWriter):
    """Rows of ``<folder>/<perturbation>.npy`` (N, T, H, W, C), preallocated before the shards run,
    and ``labels.npy`` beside them."""

    @staticmethod
    def _plan(adapter, out, trees, samples, profile) -> tuple[dict[str, list], dict[Path, tuple]]:
        folders: dict[str, list] = {}
        for sample in samples:
            folder, _ = adapter.array_slot(sample)
            folders.setdefault(folder, []).append(sample)
        image = adapter.load(samples[0])[0]
        frame = image.shape if image.ndim == 3 else (*image.shape, 1)
        arrays = {}
        for (name, difficulty), tree in trees.items():
            count = get_sequence(name).frames_for(difficulty, profile).count
            for folder, members in folders.items():
                arrays[contained(Path(out), _in(folder, f"{tree}.npy"))] = (len(members), count, *frame)
        return folders, arrays

    @staticmethod
    def prepare(adapter, out, trees, moved, samples=(), profile=None) -> set[tuple[str, int]]:
        """Preallocate every perturbation's array (kept when a resumed build finds it whole) and write the
        labels; returns the cells whose array was there but damaged (its rows are gone)."""
        folders, arrays = SequenceArrayWriter._plan(adapter, out, trees, samples, profile)
        by_tree = {tree: cell for cell, tree in trees.items()}
        lost = {by_tree[path.stem] for path, shape in arrays.items() if preallocate(path, shape)}
        for folder, members in folders.items():
            write_labels(contained(Path(out), _in(folder, "labels.npy")), np.array([adapter.label(s) for s in members], np.uint8))
        return lost

    def add(self, cell, tree, sample, pixels, moved_files, fields):
        folder, index = self.adapter.array_slot(sample)
        written = self.write_row(_in(folder, f"{tree}.npy"), index, pixels)
        return {**written, "frames": int(len(pixels))}

    @classmethod
    def pixels(cls, out, row):
        path = Path(out) / row["output"]
        try:
            return np.asarray(_mapped(path, path.stat().st_mtime_ns)[row["index"]])
        except (OSError, ValueError, IndexError) as exc:
            raise SampleError(f"{row['output']}[{row['index']}] cannot be read ({type(exc).__name__}).") from None


class VideoTarWriter(TarWriter):
    """WebDataset shards whose samples carry their sequence as an ``.mp4`` member."""

    @classmethod
    def refuse(cls, adapter, out, cells, samples) -> None:
        _refuse_without_pyav()

    def encode(self, cell, sample, pixels) -> tuple[str, bytes]:
        return "mp4", _video(self.adapter, cell, pixels)

    @classmethod
    def decode(cls, data: bytes, display: str) -> np.ndarray:
        try:
            return decode_mp4(data, display)
        except ValueError as exc:
            raise SampleError(str(exc)) from None
