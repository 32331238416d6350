"""The natural distribution shifts as released: ImageNet-V2, -R, -A, -O, -Sketch and ObjectNet, read in place.

Each is ImageNet's adapter over its own release: class folders (or the ``.tar`` / ``.tar.gz`` holding them,
never unpacked), the folders mapped to classes by the set's label space (:mod:`corruptgen.labels`), and
ImageNet's evaluation preprocessing (Resize(256) + CenterCrop(224)), so a set is scored as its
in-distribution pair is and corrupted on the fly as ImageNet-C is (``classify imagenet-r --on-the-fly
--corruptions ...``: ImageNet-R-C).

- ImageNet-V2: folders ``0``..``999`` inside ``imagenetv2-<variant>-format-val/``; the class is
  ``int(folder)``, never ImageFolder's string order (which gives folder ``100`` class 2). The variant
  (matched-frequency, threshold-0.7, top-images) is read from the folder or archive name.
- ImageNet-R, -A, -O: ``imagenet-r/<wnid>/``, ``imagenet-a/<wnid>/``, ``imagenet-o/<wnid>/`` (or their
  ``.tar``), 200 classes each.
- ImageNet-Sketch: ``sketch/<wnid>/`` (or the folder holding it), the 1000 classes.
- ObjectNet: ``objectnet-1.0/images/<folder>/``; the 113 folders that map to ImageNet classes are
  scored, the other 200 skipped (said); every image loses ``--border`` pixels per side first (2 by
  default: the 1-pixel red border smeared by JPEG, as imagenet-testbed, wise-ft and the challenge
  template crop).
- ImageNet-D: one DomainNet domain's category folders, read through the reference's 164-class map
  (merges included), scored with its ``full`` rule.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

import numpy as np

from corruptgen.labels import LabelSpace, label_space

from .base import IMAGE_EXTENSIONS, DatasetError, Sample, decode_image_bytes, output_name
from .decoded import decoded, file_identity
from .imagenet import ImageNetAdapter


@dataclass(frozen=True)
class Release:
    """What a test set's release holds: where its class folders sit, how many images it has."""

    title: str
    folders_in: tuple[str, ...]
    """Paths, under ``--src``, where the class folders may sit (the first that holds some is read)."""
    images: int
    exact: bool = True
    """Whether the release's count is exact (ImageNet-Sketch's and ObjectNet's differ between copies)."""


@dataclass
class NaturalShiftAdapter(ImageNetAdapter):
    """A natural-shift test set: ImageNet's reading (folders or archive, preprocessing) over its own
    release, each folder mapped to its class by :attr:`space_name`'s label space."""

    name = "natural"
    space_name: ClassVar[str] = "imagenet-1k"
    release: ClassVar[Release]
    border: int = 0
    """Pixels cropped from each side before anything else (ObjectNet: 2)."""
    benchmark_size = None

    def __post_init__(self):
        self.split = None  # a test set has one split

    @property
    def space(self) -> LabelSpace:
        return label_space(self.space_name)

    def describe(self) -> dict:
        doc = {**super().describe(), "label_space": self.space_name}
        if self.border:
            doc["border"] = self.border
        return doc

    def expected_layout(self) -> str:
        where = " or ".join(f"{p}/<class>/" for p in self.release.folders_in if p) or "<class>/"
        return f"{self.release.title}'s class folders ({where} under --src), or its archive as --src"

    def _root(self) -> Path:
        candidates = [self.src / p for p in self.release.folders_in] + [self.src]
        for root in candidates:
            if root.is_dir() and any(p.is_dir() and self.space.index(p.name) is not None for p in root.iterdir()):
                return root
        raise DatasetError(f"{self.src} holds no {self.release.title} class folder; expected {self.expected_layout()}.")

    def samples(self) -> list[Sample]:
        if self._archive() and self._compressed():
            out = self._gz_samples()
        else:
            out = super().samples()
        kept = [s for s in out if self.space.index(s.key.split("/", 1)[0]) is not None]
        self.skipped = len(out) - len(kept)
        if not kept:
            raise DatasetError(f"{self.src} holds no image in {self.release.title}'s class folders; expected "
                               f"{self.expected_layout()}.")  # fmt: skip
        return kept

    def label(self, sample: Sample) -> int | None:
        """The sample's class in the label space (its folder's, by the shipped map)."""
        return self.space.index(sample.key.split("/", 1)[0])

    def class_list(self) -> list:
        return list(self.space.classes)

    def size_warning(self, built: int) -> str | None:
        released = self.release.images
        skipped = getattr(self, "skipped", 0)
        extra = f" ({skipped:,} images in folders the label space leaves out were skipped)" if skipped else ""
        if built == released or (not self.release.exact and abs(built - released) <= 0.01 * released):
            return f"{self.release.title}: {built:,} images scored{extra}." if skipped else None
        about = "" if self.release.exact else "about "
        return (f"{self.release.title}: {built:,} images, where the release holds {about}{released:,}{extra}; a partial "
                "or other copy gives numbers that are not the published set's.")

    # -- archives: the .tar is read in place by ImageNet's index; a .tar.gz cannot seek, so its images are
    # read in one pass and kept once per process --

    def _compressed(self) -> bool:
        return self.src.name.lower().endswith((".tar.gz", ".tgz"))

    def _members(self) -> dict[str, bytes]:
        def read() -> dict[str, bytes]:
            members = {}
            try:
                with tarfile.open(self.src, "r|*") as archive:
                    for member in archive:
                        if member.isfile() and PurePosixPath(member.name).suffix.lower() in IMAGE_EXTENSIONS:
                            members[member.name] = archive.extractfile(member).read()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise DatasetError(f"--src {self.src} cannot be read as a .tar.gz archive ({exc}).") from None
            return members

        return decoded(("natural", file_identity(self.src)), read)

    def _gz_samples(self) -> list[Sample]:
        out = []
        for name in self._members():
            parts = PurePosixPath(name).parts
            if len(parts) < 2:
                continue
            key = "/".join(parts[-2:])
            out.append(Sample(key=key, source=f"{self.src.name}:{name}", output=output_name(key, self.settings.image_format)))
        self._classes = sorted({s.key.split("/")[0] for s in out})
        return sorted(out, key=lambda s: s.key)

    def _decode(self, sample: Sample):
        if self._archive() and self._compressed():
            name = sample.source.split(":", 1)[1]
            pixels, note = decode_image_bytes(self._members()[name], sample.source)
        else:
            pixels, note = super()._decode(sample)
        if self.border:
            b = self.border
            if pixels.shape[0] <= 2 * b or pixels.shape[1] <= 2 * b:
                return pixels, note
            pixels = np.ascontiguousarray(pixels[b:-b, b:-b])
        return pixels, note


V2_VARIANTS = ("matched-frequency", "threshold-0.7", "top-images")


@dataclass
class ImageNetV2Adapter(NaturalShiftAdapter):
    name = "imagenet-v2"
    space_name = "imagenet-v2"
    release = Release("ImageNet-V2", tuple(f"imagenetv2-{v}-format-val" for v in V2_VARIANTS) + ("",), 10_000)

    @property
    def variant(self) -> str:
        """Which of the three ImageNet-V2 sets this is, from the folder or archive name (matched-frequency,
        the one papers report, when the name says nothing)."""
        text = self.src.name + "/" + "/".join(p.name for p in self.src.iterdir() if p.is_dir()) if self.src.is_dir() else self.src.name
        return next((v for v in V2_VARIANTS if v.replace("-", "") in text.replace("-", "").replace("_", "")), "matched-frequency")

    def describe(self) -> dict:
        return {**super().describe(), "variant": self.variant}


def _wnid_set(class_name: str, name: str, title: str, images: int) -> type[NaturalShiftAdapter]:
    """ImageNet-R, -A or -O: ``<name>/<wnid>/`` folders (or their ``.tar``), the set's own 200-class space."""
    attributes = {"name": name, "space_name": name, "release": Release(title, (name,), images), "__module__": __name__,
                  "__qualname__": class_name, "__doc__": f"{title}: {images:,} images of 200 ImageNet classes."}  # fmt: skip
    return dataclass(type(class_name, (NaturalShiftAdapter,), attributes))


ImageNetRAdapter = _wnid_set("ImageNetRAdapter", "imagenet-r", "ImageNet-R", 30_000)
ImageNetAAdapter = _wnid_set("ImageNetAAdapter", "imagenet-a", "ImageNet-A", 7_500)
ImageNetOAdapter = _wnid_set("ImageNetOAdapter", "imagenet-o", "ImageNet-O", 2_000)


@dataclass
class ImageNetSketchAdapter(NaturalShiftAdapter):
    name = "imagenet-sketch"
    space_name = "imagenet-sketch"
    release = Release("ImageNet-Sketch", ("sketch", "imagenet-sketch/sketch", "data/sketch"), 50_889, exact=False)


@dataclass
class ObjectNetAdapter(NaturalShiftAdapter):
    name = "objectnet"
    space_name = "objectnet"
    release = Release("ObjectNet", ("objectnet-1.0/images", "images"), 18_574, exact=False)
    border: int = 2


DOMAINNET_DOMAINS = ("clipart", "infograph", "painting", "quickdraw", "real", "sketch")


@dataclass
class ImageNetDAdapter(NaturalShiftAdapter):
    """ImageNet-D (Rusak, Schneider et al.): one DomainNet domain's ``<category>/`` folders (``--src
    DomainNet/clipart``), the 164 classes of the reference's map (merged categories read as their class), the
    other 166 categories skipped; scored with the reference's ``full`` rule."""

    name = "imagenet-d"
    space_name = "imagenet-d"
    release = Release("ImageNet-D", ("",), 0, exact=False)

    def size_warning(self, built: int) -> str | None:
        skipped = getattr(self, "skipped", 0)
        domain = self.src.name if self.src.name in DOMAINNET_DOMAINS else "an unnamed domain"
        return (f"ImageNet-D ({domain}): {built:,} images of the 164 classes scored"
                + (f"; {skipped:,} in the 166 DomainNet categories no ImageNet class maps to were skipped." if skipped else "."))


NATURAL_SHIFTS: dict[str, type[NaturalShiftAdapter]] = {a.name: a for a in (
    ImageNetV2Adapter, ImageNetRAdapter, ImageNetAAdapter, ImageNetOAdapter, ImageNetSketchAdapter, ObjectNetAdapter,
    ImageNetDAdapter)}
"""The natural-shift test sets, by dataset kind."""
