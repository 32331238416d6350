"""Pascal VOC (``VOCdevkit/VOC2007|VOC2012``) -> Pascal-C.

Each corruption/severity is a complete VOC tree, ``<out>/<corruption>/<severity>/VOCdevkit/
VOC20xx/``: JPEGImages corrupted (still ``.jpg``, which torchvision and mmdetection hard-code),
everything else (Annotations, ImageSets, SegmentationClass/Object, ...) carried unchanged as
hard links where the filesystem allows, so annotations are stored once. Trees of a corruption
that moves content get each image's XML boxes and segmentation PNGs moved with it (void 255
where nothing maps).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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

    def per_image_file(self, sample: Sample, folder: str = "Annotations", root: Path | None = None) -> Path:
        """The sample's file in ``folder`` (Annotations, SegmentationClass, SegmentationObject): the
        source's, or a built tree's (``root``: ``<out>/<corruption>/<severity>``, the source's layout)."""
        image = PurePosixPath(sample.source if root is None else sample.output)
        return (self.src if root is None else root) / image.parent.parent / folder / f"{image.stem}{PER_IMAGE[folder]}"

    def annotation_files(self, sample: Sample) -> dict[str, tuple[str, Path]]:
        """The sample's annotation files: tree-relative path -> (folder, source path), where they exist."""
        year_out = PurePosixPath(sample.output).parent.parent
        files = {}
        for folder in PER_IMAGE:
            source = self.per_image_file(sample, folder)
            if source.is_file():
                files[f"{year_out}/{folder}/{source.name}"] = (folder, source)
        return files

    @staticmethod
    def image_id(sample: Sample) -> str:
        """The id detection results use for the sample: ``VOC2007/000001`` (year and file stem)."""
        year, _, name = PurePosixPath(sample.key).parts
        return f"{year}/{PurePosixPath(name).stem}"

    def moved_targets(self, sample, warp, size):
        moved, dropped = {}, 0
        for relative, (folder, source, data) in self.own_annotations(sample).items():
            display = f"{sample.source.rsplit('/JPEGImages/', 1)[0]}/{folder}/{source.name}"
            if folder == "Annotations":
                moved[relative], dropped = warp_voc_xml(data, warp, display)
            else:
                moved[relative] = warp_label_png(data, warp, VOID, display)
        return moved, {"dropped": dropped}

    def members(self, sample, moved_files, fields):
        """``json``: the XML's size and objects (boxes 1-based ``[xmin, ymin, xmax, ymax]``);
        ``segmentationclass.png`` / ``segmentationobject.png`` where the image has them."""
        out = {}
        for relative, (folder, _, source_data) in self.own_annotations(sample).items():
            data = moved_files.get(relative) or source_data
            if folder == "Annotations":
                out["json"] = json.dumps(voc_objects(data), sort_keys=True).encode()
            else:
                out[f"{folder.lower()}.png"] = data
        return out

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


def voc_objects(xml: bytes) -> dict:
    """A VOC annotation as JSON: file name, size, and each object's name, flags and box (1-based
    ``[xmin, ymin, xmax, ymax]``; None when it has no numeric ``bndbox``). ET.ParseError on bad XML."""
    root = ET.fromstring(xml)

    def number(text, kind=int):
        try:
            return kind(text)
        except (TypeError, ValueError):
            return None

    objects = []
    for obj in root.iter("object"):
        box = [number(obj.findtext(f"bndbox/{t}"), float) for t in ("xmin", "ymin", "xmax", "ymax")]
        objects.append({"name": (obj.findtext("name") or "").strip(), "pose": obj.findtext("pose"),
                        "difficult": int((obj.findtext("difficult") or "0").strip() == "1"),
                        "truncated": int((obj.findtext("truncated") or "0").strip() == "1"),
                        "bbox": None if None in box else box})  # fmt: skip
    size = {tag: number(root.findtext(f"size/{tag}")) or 0 for tag in ("width", "height", "depth")}
    return {"filename": root.findtext("filename"), "size": size, "objects": objects}
