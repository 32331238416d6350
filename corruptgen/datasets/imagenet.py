"""ImageNet -> ImageNet-C's tree, from the source in any of the forms people hold it:

- class folders, ``<split>/<wnid>/*.JPEG`` (torchvision's ImageFolder layout);
- flat, ``<split>/ILSVRC2012_val_*.JPEG`` as the official archive extracts, with ``--labels``
  (the devkit or Kaggle's ``LOC_val_solution.csv``, see :mod:`.imagenet_sources`);
- the archive itself, ``--src ILSVRC2012_img_val.tar`` (flat members, with ``--labels``) or
  ``ILSVRC2012_img_train.tar`` (one inner tar per class), read member by member in place.

Every form gives the same samples (key ``<wnid>/<file>``) and so the same output:
``<out>/<corruption>/<severity>/<wnid>/<file>``, every class folder present in every tree
(torchvision's ImageFolder numbers classes by sorted folder names). By default each image is
preprocessed as ImageNet-C was made, Resize(256) + CenterCrop(224), and written as JPEG quality
85 (``--no-imagenet-c-preprocessing`` keeps sizes and the source format).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from corruptgen.files import atomic_write, sha256_bytes
from corruptgen.labels import label_space

from .base import (
    IMAGE_EXTENSIONS,
    Adapter,
    DatasetError,
    NamedClass,
    Sample,
    decode_image,
    decode_image_bytes,
    output_name,
    walk_images,
)  # fmt: skip
from .imagenet_sources import LABEL_SOURCES, Labels, index_archive, read_labels, read_member

INDEX_FILE = "source-index.json"


def resize_shorter(pixels: np.ndarray, resize: int = 256) -> Image.Image:
    """torchvision's Resize(256): the shorter side to ``resize``, bilinear, on PIL like torchvision."""
    img = Image.fromarray(pixels)
    w, h = img.size
    if w <= h:
        size = (resize, int(resize * h / w))
    else:
        size = (int(resize * w / h), resize)
    return img.resize(size, Image.BILINEAR)


def resize_center_crop(pixels: np.ndarray, resize: int = 256, crop: int = 224) -> np.ndarray:
    """torchvision's Resize(256) (shorter side, bilinear) + CenterCrop(224), on PIL like torchvision."""
    img = resize_shorter(pixels, resize)
    w, h = img.size
    left, top = int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))
    return np.asarray(img.crop((left, top, left + crop, top + crop)))


def _is_image(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS and not PurePosixPath(name).name.startswith(".")


@dataclass
class ImageNetAdapter(Adapter):
    name = "imagenet"
    benchmark_size = ("ImageNet-C", 50000, 1000)
    preprocess: bool = True
    labels: Path | None = None
    keys: Path | None = None
    """A file listing the samples to build, one ``<wnid>/<file>`` per line (RobustBench's
    ``imagenet_test_image_ids.txt``); every class folder is still written."""
    classes_of: str | None = None
    """A label space (``imagenet-r``, ``objectnet``, ...): only the images of its classes, each labelled by
    its class there: the in-distribution pair of a natural shift (imagenet-testbed's
    ``val-on-imagenet-r-classes``)."""
    _label_cache: Labels | None = field(default=None, repr=False)
    _index: list | None = field(default=None, repr=False)
    _classes: list[str] | None = field(default=None, repr=False)
    _class_index: dict[str, int] | None = field(default=None, repr=False)

    def __post_init__(self):
        self.split = self.split or "val"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_label_cache"], state["_index"] = None, None  # workers read by the samples' locators
        return state

    def describe(self) -> dict:
        doc = {**super().describe(), "preprocessing": "resize256-centercrop224" if self.preprocess else None,
               "labels": str(self.labels) if self.labels else None}  # fmt: skip
        if self.keys is not None:  # absent otherwise, so builds without --keys keep their record
            doc.update(keys=sha256_bytes(self._key_text().encode()), keys_file=str(self.keys))
        if self.classes_of is not None:
            doc["classes_of"] = self.classes_of
        return doc

    def _key_text(self) -> str:
        try:
            return Path(self.keys).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"--keys {self.keys} cannot be read ({exc}); give a text file of <wnid>/<file> lines.") from None

    def _only_keys(self, samples: list[Sample]) -> list[Sample]:
        """The samples ``--keys`` lists, in the build's order; DatasetError naming a listed key the source lacks."""
        wanted = {line.strip().lstrip("./") for line in self._key_text().splitlines() if line.strip()}
        if not wanted:
            raise DatasetError(f"--keys {self.keys} lists no sample; give one <wnid>/<file> per line.")
        kept = [s for s in samples if s.key in wanted]
        missing = sorted(wanted - {s.key for s in kept})
        if missing:
            raise DatasetError(f"--keys {self.keys} lists {len(missing)} sample(s) the source does not hold, e.g. "
                               f"{missing[0]!r}; keys are <wnid>/<file name> as under {self.split}/.")  # fmt: skip
        return kept

    def expected_layout(self) -> str:
        return (f"class folders {self.split}/<wnid>/*.JPEG, a flat {self.split}/ILSVRC2012_val_*.JPEG folder with "
                f"{LABEL_SOURCES}, or the .tar archive as --src")  # fmt: skip

    # -- the forms ----------------------------------------------------------------------------------

    def _archive(self) -> bool:
        return self.src.is_file()

    def _root(self) -> Path:
        root = self.src / self.split
        if root.is_dir():
            return root
        if any(p.is_dir() or _is_image(p.name) for p in self.src.iterdir()):
            return self.src  # --src pointed at the split folder itself
        raise DatasetError(f"split folder {root} does not exist; ImageNet needs {self.expected_layout()}.")

    def _label_source(self, where: str) -> Labels:
        if self._label_cache is None:
            if self.labels is None:
                raise DatasetError(f"{where} holds ImageNet images without class folders (flat, as the official "
                                   f"archive extracts); their classes need {LABEL_SOURCES}.")  # fmt: skip
            self._label_cache = read_labels(self.labels)
        return self._label_cache

    def _labelled(self, names: list[tuple[str, str, tuple[int, int] | None]], where: str) -> list[Sample]:
        """Flat images (file name, source, locator) -> samples keyed by their labels' wnid."""
        labels = self._label_source(where)
        self._classes = list(labels.wnids)
        samples = []
        for file_name, source, locator in names:
            wnid = labels.wnid(file_name)
            key = f"{wnid or '_unlabelled'}/{file_name}"
            problem = None if wnid else f"{source}: no class for this file in --labels {labels.origin}."
            samples.append(Sample(key=key, source=source, output=output_name(key, self.settings.image_format),
                                  problem=problem, locator=locator))  # fmt: skip
        return samples

    def samples(self) -> list[Sample]:
        if self._archive():
            out = self._archive_samples()
        else:
            root = self._root()
            classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            flat = sorted(p for p in root.iterdir() if p.is_file() and _is_image(p.name))
            if flat and not any(next(walk_images(root / c), None) for c in classes):  # no class folder holds an image
                out = self._labelled([(p.name, p.relative_to(self.src).as_posix(), None) for p in flat], str(root))
            else:
                self._classes = classes
                out = []
                for wnid in classes:
                    for path in walk_images(root / wnid):
                        rel = path.relative_to(root).as_posix()
                        out.append(Sample(key=rel, source=path.relative_to(self.src).as_posix(),
                                          output=output_name(rel, self.settings.image_format)))  # fmt: skip
        out = sorted(out, key=lambda s: s.key)
        if self.classes_of is not None:
            out = [s for s in out if self._space_class(s.key.split("/", 1)[0]) is not None]
        return self._only_keys(out) if self.keys is not None else out

    def _archive_samples(self) -> list[Sample]:
        if self._index is None:
            self._index = index_archive(self.src)
        entries = self._index
        if not entries:
            return []
        if all("/" not in name.strip("/") for name, _, _ in entries):  # flat: the validation archive
            return self._labelled([(name, f"{self.src.name}:{name}", (offset, size)) for name, offset, size in entries],
                                  str(self.src))  # fmt: skip
        out = []
        for name, offset, size in entries:  # class folders inside, or the training archive's inner tars
            parts = PurePosixPath(name).parts
            key = "/".join(parts[-2:]) if len(parts) >= 2 else f"_unlabelled/{parts[-1]}"
            out.append(Sample(key=key, source=f"{self.src.name}:{name}", output=output_name(key, self.settings.image_format),
                              locator=(offset, size)))  # fmt: skip
        self._classes = sorted({s.key.split("/")[0] for s in out})
        return out

    def tree_dirs(self) -> list[str]:
        if self._classes is None:
            self.samples()
        return list(self._classes or [])

    def label(self, sample: Sample) -> int | None:
        """The wnid's index in sorted order (torchvision's ImageFolder); None for an unlabelled image. With
        :attr:`classes_of`, the wnid's class in that label space."""
        if self.classes_of is not None:
            return self._space_class(sample.key.split("/", 1)[0])
        if self._class_index is None:
            self._class_index = {wnid: i for i, wnid in enumerate(self.tree_dirs())}
        return self._class_index.get(sample.key.split("/", 1)[0])

    def _space_class(self, wnid: str) -> int | None:
        """The :attr:`classes_of` space's class covering ImageNet class ``wnid``, by its ImageNet index (ObjectNet's and
        ImageNet-D's classes are named by their own folders, not by wnids); None where the space leaves it out."""
        index = label_space("imagenet-1k").index(wnid)
        if index is None:
            return None
        found = int(label_space(self.classes_of).class_of_in1k[index])
        return None if found < 0 else found

    def class_list(self) -> list:
        """ImageNet-1k's classes of the class folders held, in label order (all 1000 for the whole of val), or
        the ``classes_of`` label space's."""
        if self.classes_of is not None:
            return list(label_space(self.classes_of).classes)
        space = label_space("imagenet-1k")
        return [space.classes[i] if (i := space.index(wnid)) is not None else NamedClass(wnid) for wnid in self.tree_dirs()]

    # -- reading ------------------------------------------------------------------------------------

    def _decode(self, sample: Sample):
        if sample.locator is not None:
            return decode_image_bytes(read_member(self.src, *sample.locator), sample.source)
        return decode_image(self.src / sample.source, sample.source)

    def load(self, sample: Sample):
        pixels, note = self._decode(sample)
        if self.preprocess:
            pixels = resize_center_crop(pixels)
        return pixels, note

    def load_for_sequences(self, sample: Sample):
        """ImageNet-P's start: the Resize(256) image; geometric sequences move it whole, then crop 224."""
        pixels, note = self._decode(sample)
        if self.preprocess:
            pixels = np.asarray(resize_shorter(pixels))
        return pixels, note

    def frame_size(self) -> tuple[int, int] | None:
        return (224, 224) if self.preprocess else None

    # -- the archive index, kept beside corruptgen.json ---------------------------------------------

    def _stamp(self) -> dict:
        stat = self.src.stat()
        return {"archive": self.src.name, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def load_cache(self, out: Path) -> None:
        path = out / INDEX_FILE
        if not self._archive() or not path.is_file():
            return
        try:
            doc = json.loads(path.read_text())
            if doc.get("stamp") == self._stamp():
                self._index = [tuple(entry) for entry in doc["members"]]
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            self._index = None  # a damaged index is read from the archive again

    def save_cache(self, out: Path) -> None:
        if self._archive() and self._index is not None:
            doc = {"stamp": self._stamp(), "members": [list(entry) for entry in self._index]}
            atomic_write(out / INDEX_FILE, json.dumps(doc, separators=(",", ":")).encode())
