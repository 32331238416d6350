"""Pascal VOC (``VOCdevkit/VOC2007|VOC2012``) -> Pascal-C.

Each corruption/severity is a complete VOC tree, ``<out>/<corruption>/<severity>/VOCdevkit/
VOC20xx/``: JPEGImages corrupted (still ``.jpg``, which torchvision and mmdetection hard-code),
everything else (Annotations, ImageSets, SegmentationClass/Object, ...) carried unchanged as
hard links where the filesystem allows, so annotations are stored once. Trees of a corruption
that moves content get each image's XML boxes and segmentation PNGs moved with it (void 255
where nothing maps).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from corruptgen.files import atomic_write, contained
from corruptgen.geometry.annotations import warp_label_png, warp_voc_xml

from .base import Adapter, CarriedFile, DatasetError, Sample, walk_images

VOID = 255
PER_IMAGE = {"Annotations": ".xml", "SegmentationClass": ".png", "SegmentationObject": ".png"}


@dataclass
class VocAdapter(Adapter):
    name = "voc"
    spatial_annotations = True

    def _years(self) -> list[Path]:
        if (self.src / "JPEGImages").is_dir():  # --src points at one VOC20xx folder
            years = [self.src]
        else:
            base = self.src / "VOCdevkit" if (self.src / "VOCdevkit").is_dir() else self.src
            years = sorted(p for p in base.iterdir() if p.is_dir() and (p / "JPEGImages").is_dir())
        if self.split:
            wanted = set(self.split.split(","))
            years = [y for y in years if y.name in wanted]
        if not years:
            raise DatasetError(f"no VOC20xx folder with JPEGImages/ under {self.src}" + (f" for --split {self.split}" if self.split else "")
                               + f"; Pascal VOC needs {self.expected_layout()}.")  # fmt: skip
        return years

    def expected_layout(self) -> str:
        return "VOCdevkit/VOC20xx/JPEGImages/*.jpg (with Annotations/ beside)"

    def _rel(self, year: Path) -> str:
        return f"VOCdevkit/{year.name}"

    def samples(self) -> list[Sample]:
        if self.settings.image_format == "png":
            raise DatasetError("VOC loaders expect JPEGImages/*.jpg; --image-format png is not available for voc.")
        out = []
        for year in self._years():
            for path in walk_images(year / "JPEGImages"):
                within = path.relative_to(year).as_posix()
                out.append(Sample(key=f"{year.name}/{within}", source=path.relative_to(self.src).as_posix(),
                                  output=f"{self._rel(year)}/{within}"))  # fmt: skip
        return out

    def carried(self) -> list[CarriedFile]:
        files = []
        for year in self._years():
            for path in sorted(year.rglob("*")):
                within = path.relative_to(year)
                if path.is_file() and within.parts[0] != "JPEGImages":
                    files.append(CarriedFile(f"{self._rel(year)}/{within.as_posix()}", source=path, per_tree=True,
                                             moves=within.parts[0] in PER_IMAGE))  # fmt: skip
        return files

    def warp_targets(self, tree, sample, warp, size):
        year = (self.src / sample.source).parent.parent
        year_out = PurePosixPath(sample.output).parent.parent
        stem = PurePosixPath(sample.output).stem
        dropped = 0
        for folder, suffix in PER_IMAGE.items():
            source = year / folder / f"{stem}{suffix}"
            if not source.is_file():
                continue
            display = f"{sample.source.rsplit('/JPEGImages/', 1)[0]}/{folder}/{source.name}"
            if suffix == ".xml":
                data, dropped = warp_voc_xml(source.read_bytes(), warp, display)
            else:
                data = warp_label_png(source.read_bytes(), warp, VOID, display)
            atomic_write(contained(tree, f"{year_out}/{folder}/{source.name}"), data)
        return {"dropped": dropped}

    @classmethod
    def check(cls, out: Path) -> list[str]:
        problems = []
        for xml in sorted(out.glob("*/*/VOCdevkit/*/Annotations/*.xml")):
            try:
                root = ET.parse(xml).getroot()
                if root.find("filename") is None:
                    problems.append(f"{xml}: no <filename>.")
            except ET.ParseError as exc:
                problems.append(f"{xml}: does not parse ({exc}).")
        return problems
