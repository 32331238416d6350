"""MNIST idx files (plain or .gz) -> MNIST-C's layout.

Output per corruption/severity: ``{train,test}_images.npy`` (uint8, N x 28 x 28 x 1) and
``{train,test}_labels.npy`` (uint8, N), as MNIST-C ships; ``--image-format png`` writes
``<split>/<index>.png`` instead of the image array. Shards write their rows straight into a
preallocated ``.npy`` file (disjoint slices), so the array is byte-identical whatever the
shard size or worker count.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corruptgen.files import preallocate, write_labels

from .base import Adapter, DatasetError, NamedClass, Sample, SampleError, array_problems
from .decoded import decoded, file_identity

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}  # fmt: skip


def find_idx(src: Path, stem: str) -> Path | None:
    for folder in (src, src / "raw", src / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse an idx file: big-endian header (magic 0x0000_08_<ndim>, then the dimensions), raw uint8 data."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc}).") from None
    if len(raw) < 4 + 4 * ndim or raw[0:2] != b"\0\0" or raw[2] != 0x08 or raw[3] != ndim:
        raise DatasetError(f"{path}: not an idx file of {ndim}-D unsigned bytes (bad magic number).")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetError(f"{path}: header says {dims} but holds {data.size} bytes (truncated?).")
    return data.reshape(dims)


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise DatasetError(f"{images_path.name} holds {len(images)} images but {labels_path.name} {len(labels)} labels.")
    return images, labels


@dataclass
class MnistAdapter(Adapter):
    name = "mnist"
    scored_split = "test"
    benchmark_size = ("MNIST-C", 10000, 10)
    _arrays: dict = field(default_factory=dict, repr=False)
    _maps: dict = field(default_factory=dict, repr=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_arrays"], state["_maps"] = {}, {}  # never pickled: each worker process decodes once (.decoded)
        return state

    def expected_layout(self) -> str:
        return "the idx files " + ", ".join(n for pair in FILES.values() for n in pair) + " (plain or .gz)"

    def splits(self) -> list[str]:
        splits = [self.split] if self.split else ["train", "test"]
        bad = [s for s in splits if s not in FILES]
        if bad:
            raise DatasetError(f"unknown MNIST split {bad[0]!r}; valid splits are train and test.")
        return splits

    def split_of(self, sample: Sample) -> str:
        return sample.key.split("/")[0]

    def _data(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split not in self._arrays:
            paths = [find_idx(self.src, stem) for stem in FILES[split]]
            if None in paths:
                missing = FILES[split][paths.index(None)]
                raise DatasetError(f"{missing}[.gz] not found in {self.src} (nor in raw/ or MNIST/raw/); MNIST needs "
                                   f"{self.expected_layout()}.")  # fmt: skip
            key = ("mnist", *map(file_identity, paths))  # once per process, whatever shard asks
            self._arrays[split] = decoded(key, lambda: _read_split(paths[0], paths[1]))
        return self._arrays[split]

    def labels(self, split: str) -> np.ndarray:
        """The split's labels (N uint8), as its idx file holds them."""
        return self._data(split)[1]

    def class_list(self) -> list:
        """The ten labels as digits (Fashion-MNIST's names are not in its idx files)."""
        return [NamedClass(str(i)) for i in range(10)]

    def label(self, sample: Sample) -> int:
        split, index = sample.key.split("/")
        return int(self.labels(split)[int(index)])

    def samples(self) -> list[Sample]:
        out = []
        for split in self.splits():
            images, _ = self._data(split)
            out += [Sample(key=f"{split}/{i:05d}", source=f"{FILES[split][0]}#{i}", output=f"{split}/{i:05d}.png")
                    for i in range(len(images))]  # fmt: skip
        return out

    sequence_arrays = True

    def array_slot(self, sample: Sample) -> tuple[str, int]:
        split, index = sample.key.split("/")
        return split, int(index)

    def load(self, sample: Sample):
        split, index = sample.key.split("/")
        images, _ = self._data(split)
        if int(index) >= len(images):
            raise SampleError(f"{sample.source}: index out of range.")
        return images[int(index)], None

    def _array_mode(self) -> bool:
        return self.settings.image_format == "source"

    def prepare_tree(self, tree: Path, samples: list[Sample]) -> bool:
        """``<split>_labels.npy`` and, as arrays, ``<split>_images.npy`` of the build's samples of each split
        (``--limit`` keeps the first N: rows 0..n-1 of the split, in order); a split the build does not
        reach gets no arrays. True when an image array of another size was there (its rows are gone)."""
        counts = Counter(sample.key.split("/")[0] for sample in samples)
        lost = False
        for split in self.splits():
            n = counts.get(split, 0)
            if n == 0:
                continue
            write_labels(tree / f"{split}_labels.npy", np.ascontiguousarray(self._data(split)[1][:n]))
            if self._array_mode():
                lost |= preallocate(tree / f"{split}_images.npy", (n, 28, 28, 1))
        return lost

    def write_output(self, tree: Path, sample: Sample, pixels: np.ndarray) -> dict:
        if not self._array_mode():
            return super().write_output(tree, sample, pixels)
        split, index = sample.key.split("/")
        path = tree / f"{split}_images.npy"
        if path not in self._maps:
            self._maps[path] = np.load(path, mmap_mode="r+")
        data = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(28, 28, 1)
        self._maps[path][int(index)] = data
        return {"output": path.name, "index": int(index), "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
                "bytes": data.nbytes}  # fmt: skip

    def close(self) -> None:
        for array in self._maps.values():
            array.flush()
        self._maps.clear()

    @classmethod
    def check(cls, out: Path) -> list[str]:
        problems = []
        for images_path in sorted([*out.glob("*/*_images.npy"), *out.glob("*/*/*_images.npy")]):
            labels_path = images_path.with_name(images_path.name.replace("_images", "_labels"))
            problems += array_problems(images_path, labels_path, (28, 28, 1))
        return problems
