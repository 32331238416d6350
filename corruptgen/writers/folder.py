"""The folder tree: each output where the source's layout puts it, one file per image, or a row of
a release's array (MNIST-C's ``<split>_images.npy``: the adapter preallocates it and writes its
rows, a manifest row names the file and the ``index``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from corruptgen.datasets.base import Adapter, SampleError, decode_image
from corruptgen.files import atomic_write, contained

from .base import Writer, place


@lru_cache(maxsize=8)
def _mapped(path: Path, mtime_ns: int) -> np.ndarray:
    return np.load(path, mmap_mode="r")  # verify reads one row at a time: map each file once per version


class FolderWriter(Writer):
    """Each output where the source's layout puts it (the adapter's ``write_output``), and moved
    annotation files beside it in the same tree."""

    @staticmethod
    def prepare(adapter: Adapter, out: Path, trees: dict[tuple[str, int], str], moved: frozenset[str], samples=(),
                profile=None) -> set[tuple[str, int]]:  # fmt: skip
        """Make every tree a complete copy of the source's layout before the shards run: its per-tree
        annotation files (but a sample's own where the corruption moves content: written moved, per
        output), the folders it must have, the arrays outputs are written into (sized for ``samples``);
        returns the cells whose earlier outputs were dropped."""
        per_tree = [item for item in adapter.carried() if item.per_tree]
        lost, samples = set(), list(samples)
        for cell, tree in trees.items():
            corruption = cell[0]
            root = contained(out, tree)
            root.mkdir(parents=True, exist_ok=True)
            for item in per_tree:
                if not (item.moves and corruption in moved):
                    place(root, item.target, item)
            for name in adapter.tree_dirs():
                contained(root, name).mkdir(parents=True, exist_ok=True)
            if adapter.prepare_tree(root, samples):
                lost.add(cell)
        return lost

    @staticmethod
    def finish(adapter: Adapter, tree: Path, rows: list[dict]) -> None:
        """A moved tree's dataset-level annotation files, from its manifest rows."""
        adapter.finish_tree(tree, rows)

    def add(self, cell, tree, sample, pixels, moved_files, fields):
        root = contained(self.out, tree)
        for relative, data in moved_files.items():
            atomic_write(contained(root, relative), data)
        written = self.adapter.write_output(root, sample, pixels)
        return {**written, "output": f"{tree}/{written['output']}"}

    def close(self) -> None:
        self.adapter.close()

    @classmethod
    def read(cls, out, row):
        path = Path(out) / row["output"]
        if "index" in row:
            return _mapped(path, path.stat().st_mtime_ns)[row["index"]].tobytes()
        return path.read_bytes()

    @classmethod
    def pixels(cls, out, row):
        path = Path(out) / row["output"]
        if "index" in row:
            try:
                image = _mapped(path, path.stat().st_mtime_ns)[row["index"]]
            except (OSError, ValueError, IndexError) as exc:
                raise SampleError(f"{row['output']}[{row['index']}] cannot be read ({type(exc).__name__}).") from None
            image = np.asarray(image)
            return image[:, :, 0] if image.shape[-1] == 1 else image  # MNIST-C's H x W x 1 is grey
        return decode_image(path, row["output"])[0]
