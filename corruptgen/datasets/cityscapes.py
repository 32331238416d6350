"""Cityscapes (``leftImg8bit/<split>/<city>/*_leftImg8bit.png``) -> Cityscapes-C.

Images are corrupted losslessly (PNG) with names unchanged (cityscapesscripts splits names
on ``_``). Each corruption/severity tree ``<out>/<corruption>/<severity>/`` gets the split's
``gtFine`` (and ``gtCoarse`` when present) as hard links, so ``CITYSCAPES_DATASET`` can point
at any tree for the official evaluation. Trees of a corruption that moves content get each
frame's polygons and label, instance and colour PNGs moved with it (uncovered pixels: 0,
"unlabeled", or 255 in ``*TrainIds.png``; instance ids stay 16-bit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from corruptgen.geometry.annotations import warp_label_png, warp_polygons

from .base import Adapter, CarriedFile, DatasetError, Sample, output_name, walk_images

GROUND_TRUTH = ("gtFine", "gtCoarse")


@dataclass
class CityscapesAdapter(Adapter):
    name = "cityscapes"
    spatial_annotations = True

    def __post_init__(self):
        self.split = self.split or "val"

    def expected_layout(self) -> str:
        return f"leftImg8bit/{self.split}/<city>/*_leftImg8bit.png"

    def samples(self) -> list[Sample]:
        root = self.src / "leftImg8bit" / self.split
        if not root.is_dir():
            raise DatasetError(f"{root} does not exist; Cityscapes needs leftImg8bit/<split>/<city>/ (try --split val).")
        if self.settings.image_format == "jpeg":
            raise DatasetError("Cityscapes-C is written losslessly; --image-format jpeg is not available for cityscapes.")
        out = []
        for path in walk_images(root):
            rel = path.relative_to(self.src).as_posix()
            out.append(Sample(key=rel, source=rel, output=output_name(rel, "png")))
        return out

    def carried(self) -> list[CarriedFile]:
        files = []
        for gt in GROUND_TRUTH:
            base = self.src / gt / self.split
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file():
                        files.append(CarriedFile(path.relative_to(self.src).as_posix(), source=path, per_tree=True,
                                                 moves=True))  # fmt: skip
        return files

    @staticmethod
    def frame(sample: Sample) -> str:
        """The frame name: ``leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png`` ->
        ``frankfurt_000000_000294`` (image ids in results, and the stem of every ground-truth file)."""
        return PurePosixPath(sample.key).name.rsplit("_leftImg8bit", 1)[0]

    def ground_truth_file(self, sample: Sample, kind: str, root: Path | None = None) -> Path:
        """The frame's ``gtFine_<kind>`` file (``labelIds.png``, ``instanceIds.png``, ``polygons.json``),
        in the source or in a built tree laid out like it (``root``)."""
        city = PurePosixPath(sample.source).parent.name
        return (root or self.src) / "gtFine" / self.split / city / f"{self.frame(sample)}_gtFine_{kind}"

    def annotation_files(self, sample: Sample) -> dict[str, tuple[str, Path]]:
        """The frame's ground-truth files: tree-relative path -> (member suffix, source path)."""
        image = PurePosixPath(sample.source)
        frame = self.frame(sample)
        files = {}
        for gt in GROUND_TRUTH:
            folder = f"{gt}/{self.split}/{image.parent.name}"
            for source in sorted((self.src / folder).glob(f"{frame}_{gt}_*")):
                files[f"{folder}/{source.name}"] = (source.name[len(frame) + 1 :], source)
        return files

    def moved_targets(self, sample, warp, size):
        moved, dropped = {}, 0
        for relative, (_, source, data) in self.own_annotations(sample).items():
            if source.suffix == ".json":
                moved[relative], n = _warp_polygons_json(data, warp, relative)
                dropped += n
            elif source.suffix == ".png":
                moved[relative] = warp_label_png(data, warp, 255 if "TrainIds" in source.name else 0, relative)
        return moved, {"dropped": dropped}

    def members(self, sample, moved_files, fields):
        """Each ground-truth file of the frame as its own member (``gtFine_labelIds.png``,
        ``gtFine_instanceIds.png``, ``gtFine_polygons.json``, ...), moved ones where given."""
        return {suffix: moved_files.get(relative) or data
                for relative, (suffix, _, data) in self.own_annotations(sample).items()}  # fmt: skip

    @classmethod
    def check(cls, out: Path) -> list[str]:
        problems = []
        for path in sorted(out.glob("*/*/gtFine/*/*/*_polygons.json")):
            try:
                doc = json.loads(path.read_text())
                if "objects" not in doc:
                    problems.append(f"{path}: no 'objects' list.")
            except (OSError, ValueError) as exc:
                problems.append(f"{path}: does not parse ({exc}).")
        return problems


def _warp_polygons_json(data: bytes, warp, display: str) -> tuple[bytes, int]:
    try:
        doc = json.loads(data)
        width, height, objects = int(doc["imgWidth"]), int(doc["imgHeight"]), doc["objects"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{display}: not a Cityscapes polygons file ({exc}).") from None
    doc["objects"], dropped = warp_polygons(objects, warp, width, height, display)
    return json.dumps(doc, indent=4).encode("utf-8"), dropped
