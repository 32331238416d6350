"""CIFAR-10 and CIFAR-100, the python release as distributed -> CIFAR-10-C / CIFAR-100-C.

Source: the extracted folder (``cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5``,
``test_batch``, ``batches.meta``; ``cifar-100-python/``: ``train``, ``test``, ``meta``), the folder
holding it, or the archive itself (``cifar-10-python.tar.gz``, ``cifar-100-python.tar.gz``), read
without unpacking. Each batch is a pickle whose ``data`` rows are channel-planar (1,024 R, G then
B values): an image is its row reshaped ``(3, 32, 32)`` and transposed to H x W x C, as
torchvision's ``CIFAR10`` does. CIFAR-100's labels are its fine labels.

Output: the release layout (:mod:`corruptgen.writers.arrays`): ``<out>/<corruption>.npy``, uint8
``(S x N, 32, 32, 3)`` severity-major, and ``<out>/labels.npy``, uint8 ``(S x N,)``; the train split's
arrays under ``<out>/train/``. ``--output-format webdataset`` writes PNG members with ``.cls``.
"""

from __future__ import annotations

import pickle
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .base import Adapter, DatasetError, NamedClass, Sample, SampleError, array_problems
from .decoded import decoded, file_identity


@dataclass(frozen=True)
class Release:
    """One CIFAR release: its folder name, archive name, batch files per split and label key."""

    folder: str
    archive: str
    batches: dict[str, tuple[str, ...]]
    labels_key: bytes
    classes: int
    sizes: dict[str, int]
    """Images per split as released (what RobustBench's loaders assume)."""


CIFAR10 = Release("cifar-10-batches-py", "cifar-10-python.tar.gz",
                  {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}, b"labels", 10,
                  {"train": 50000, "test": 10000})
CIFAR100 = Release("cifar-100-python", "cifar-100-python.tar.gz", {"train": ("train",), "test": ("test",)},
                   b"fine_labels", 100, {"train": 50000, "test": 10000})  # fmt: skip


def decode_batch(data: bytes, display: str, labels_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A pickled batch -> (images N x 32 x 32 x 3 uint8, labels N uint8); DatasetError naming it."""
    try:
        batch = pickle.loads(data, encoding="bytes")
        rows = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[labels_key])
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise DatasetError(f"{display} is not a CIFAR batch ({type(exc).__name__}: {exc}); it may be truncated or "
                           "another file: give the python release as downloaded.") from None  # fmt: skip
    if rows.ndim != 2 or rows.shape[1] != 3072 or labels.shape != (len(rows),):
        raise DatasetError(f"{display} holds data of shape {rows.shape} and {labels.size} labels; a CIFAR batch has "
                           "N x 3072 bytes and N labels.")  # fmt: skip
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise DatasetError(f"{display} holds labels outside 0-255.")
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.uint8)


@dataclass
class CifarAdapter(Adapter):
    """CIFAR-10's python release (``--split test``, the default, or ``train``)."""

    name = "cifar10"
    release = CIFAR10
    benchmark_size = ("CIFAR-10-C", 10000, 10)
    release_arrays = True
    """Written in the -C release's arrays (``writers.arrays``) rather than one file per image."""
    default_profile = "cifar"
    default_corruptions = "benchmark,extra"
    """The release's file set: the 15 benchmark corruptions and the 4 extra ones."""
    _arrays: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.split = self.split or "test"
        if self.split not in self.release.batches:
            raise DatasetError(f"unknown {self.name} split {self.split!r}; valid splits are test and train.")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_arrays"] = {}  # never pickled: each worker process decodes once (.decoded)
        return state

    def size_warning(self, built: int) -> str | None:
        released = self.release.sizes[self.split]
        if built == released or self.split != "test":  # no loader reads a train split's -C arrays
            return None
        source = len(self._data()[0])
        why = f"--limit kept {built} of the source's {source:,}" if built < source else f"the source holds {source:,}"
        return (f"this {self.name}-C holds {built:,} images per severity, not the release's {released:,} ({why}): "
                f"RobustBench's load_{self.name}c reads {released:,} rows per severity, so its severities 2-5 come "
                "out empty or shifted; read the arrays yourself, or build from the whole release.")

    def expected_layout(self) -> str:
        files = ", ".join(self.release.batches[self.split])
        return f"{self.release.folder}/ ({files}) or {self.release.archive}"

    def _batch_bytes(self, names: tuple[str, ...] | None = None) -> list[tuple[str, bytes]]:
        """Each batch file of the split (or the files ``names``): (what to call it in a message, its bytes)."""
        names = names or self.release.batches[self.split]
        src = Path(self.src)
        if src.is_file():
            try:
                # one streaming pass, stopping once the split's batches are read: listing the members first and
                # then seeking back to them would decompress the archive twice (a gzip stream cannot seek)
                found: dict[str, bytes] = {}
                with tarfile.open(src, "r|*") as archive:
                    for member in archive:
                        name = Path(member.name).name
                        if member.isfile() and name in names and Path(member.name).parent.name == self.release.folder:
                            found[name] = archive.extractfile(member).read()
                            if len(found) == len(names):
                                break
                missing = [n for n in names if n not in found]
                if missing:
                    raise DatasetError(f"{src} holds no {self.release.folder}/{missing[0]}; give "
                                       f"{self.expected_layout()}.")  # fmt: skip
                return [(f"{src}:{self.release.folder}/{n}", found[n]) for n in names]
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise DatasetError(f"{src} is not a readable {self.release.archive} ({type(exc).__name__}: {exc}).") from None
        folder = src if (src / names[0]).is_file() else src / self.release.folder
        out = []
        for name in names:
            path = folder / name
            try:
                out.append((str(path), path.read_bytes()))
            except FileNotFoundError:
                raise DatasetError(f"{path} not found; {self.name} needs {self.expected_layout()}.") from None
            except OSError as exc:
                raise DatasetError(f"{path} cannot be read ({exc.strerror or exc}).") from None
        return out

    def _source_identity(self) -> tuple:
        """The files the split is decoded from: the archive, or the batch files."""
        src = Path(self.src)
        if src.is_file():
            return (file_identity(src),)
        names = self.release.batches[self.split]
        folder = src if (src / names[0]).is_file() else src / self.release.folder
        return tuple(file_identity(folder / name) for name in names)

    def _decode(self) -> tuple[np.ndarray, np.ndarray]:
        parts = [decode_batch(data, display, self.release.labels_key) for display, data in self._batch_bytes()]
        images, labels = (np.concatenate(column) for column in zip(*parts, strict=True))
        if labels.size and labels.max() >= self.release.classes:
            raise DatasetError(f"{self.src}: a label {int(labels.max())} is not one of {self.name}'s "
                               f"{self.release.classes} classes.")  # fmt: skip
        return images, labels  # concatenate copies the batches' transposed views: contiguous

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        if "data" not in self._arrays:  # once per process, whatever shard asks (.decoded)
            key = (self.name, self.split, *self._source_identity())
            self._arrays["data"] = decoded(key, self._decode)
        return self._arrays["data"]

    def class_list(self) -> list:
        """The class names of the release's meta file (``batches.meta``'s ``label_names``, ``meta``'s
        ``fine_label_names``), read as the batches are."""
        meta, key = ("batches.meta", b"label_names") if self.release is CIFAR10 else ("meta", b"fine_label_names")
        (display, data), = self._batch_bytes((meta,))
        try:
            names = pickle.loads(data, encoding="bytes")[key]
        except (pickle.UnpicklingError, KeyError, EOFError, TypeError) as exc:
            raise DatasetError(f"{display} holds no class names ({type(exc).__name__}).") from None
        return [NamedClass(n.decode() if isinstance(n, bytes) else str(n)) for n in names]

    def labels(self) -> np.ndarray:
        """The split's labels (N uint8) in the release's order."""
        return self._data()[1]

    def samples(self) -> list[Sample]:
        if self.settings.image_format != "source":
            raise DatasetError(f"{self.name}-C is written as its release's arrays; --image-format "
                               f"{self.settings.image_format} is not available for {self.name} (--output-format "
                               "webdataset writes PNG members).")  # fmt: skip
        images, _ = self._data()
        batches = self.release.batches[self.split]
        per_batch = -(-len(images) // len(batches))  # the release's batches are equal

        def source(i: int) -> str:
            return f"{batches[i // per_batch]}#{i % per_batch}"

        return [Sample(key=f"{self.split}/{i:05d}", source=source(i), output=f"{self.split}/{i:05d}.png")
                for i in range(len(images))]  # fmt: skip

    @staticmethod
    def index(sample: Sample) -> int:
        """The sample's position in the split (its row in every array)."""
        return int(sample.key.rsplit("/", 1)[1])

    def load(self, sample: Sample):
        images, _ = self._data()
        i = self.index(sample)
        if i >= len(images):
            raise SampleError(f"{sample.source}: index out of range.")
        return images[i], None

    def label(self, sample: Sample) -> int:
        return int(self.labels()[self.index(sample)])

    sequence_arrays = True

    def array_slot(self, sample: Sample) -> tuple[str, int]:
        return self.release_folder(), self.index(sample)

    def release_folder(self) -> str:
        """Where the arrays go under ``--out``: the top for the test split (the release's files), ``train/``
        for the train split (never mistaken for them)."""
        return "" if self.split == "test" else self.split

    @classmethod
    def check(cls, out: Path) -> list[str]:
        problems = []
        for folder in (out, out / "train"):
            for path in sorted(p for p in folder.glob("*.npy") if p.name != "labels.npy"):
                problems += array_problems(path, folder / "labels.npy", (32, 32, 3))
        return problems


@dataclass
class Cifar100Adapter(CifarAdapter):
    """CIFAR-100's python release, fine labels."""

    name = "cifar100"
    release = CIFAR100
    benchmark_size = ("CIFAR-100-C", 10000, 100)
