"""Cityscapes (``leftImg8bit/<split>/<city>/*_leftImg8bit.png``) -> Cityscapes-C.

Images are corrupted losslessly (PNG) with names unchanged (cityscapesscripts splits names
on ``_``). Each corruption/severity tree ``<out>/<corruption>/<severity>/`` gets the split's
``gtFine`` (and ``gtCoarse`` when present) as hard links, so ``CITYSCAPES_DATASET`` can point
at any tree for the official evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .base import Adapter, CarriedFile, DatasetError, Sample, output_name, walk_images


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
        for gt in ("gtFine", "gtCoarse"):
            base = self.src / gt / self.split
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file():
                        files.append(CarriedFile(path.relative_to(self.src).as_posix(), source=path, per_tree=True))
        return files

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
