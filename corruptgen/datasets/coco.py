"""COCO (``annotations/instances_<split>.json`` + ``<split>/`` images) -> COCO-C.

Images: ``<out>/<corruption>/<severity>/<split>/<file_name>`` with unchanged names. The
annotation files of the split (``annotations/*_<split>.json``) are written once under
``<out>/annotations/``, byte for byte (rewritten only when ``--image-format`` changes file
extensions). A corruption that moves content (rotate, shear, ...) gets its own
``<out>/<corruption>/<severity>/annotations/instances_<split>.json``, every polygon, mask, box
and keypoint moved with the pixels of its image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from corruptgen.files import atomic_write
from corruptgen.geometry.annotations import warp_coco_annotations

from .base import Adapter, CarriedFile, DatasetError, Sample, output_name


@lru_cache(maxsize=2)
def _by_file_name(path: Path, mtime_ns: int) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Each image's record and annotations, read once per process (a worker moving annotations or
    writing WebDataset members needs them)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    images = {str(img.get("file_name")): img for img in doc.get("images", []) if isinstance(img, dict)}
    names = {img.get("id"): name for name, img in images.items()}
    grouped: dict[str, list[dict]] = {}
    for ann in doc.get("annotations", []):
        if isinstance(ann, dict) and ann.get("image_id") in names:
            grouped.setdefault(names[ann["image_id"]], []).append(ann)
    return images, grouped

BUNDLED = Path(__file__).parent / "sample"


@dataclass
class CocoAdapter(Adapter):
    name = "coco"
    spatial_annotations = True
    annotation_file: Path | None = None
    image_dir: Path | None = None
    is_bundled: bool = False
    _problems: list[str] = field(default_factory=list, repr=False)
    _images: list[dict] | None = field(default=None, repr=False)

    def __post_init__(self):
        self.split = self.split or "val2017"
        self.annotation_file = self.annotation_file or self.src / "annotations" / f"instances_{self.split}.json"
        self.image_dir = self.image_dir or self.src / self.split

    @classmethod
    def bundled(cls, settings) -> CocoAdapter:
        """The sample that ships with corruptgen: scikit-image's photographs, hand-annotated."""
        from skimage import data

        return cls(src=Path(data.data_dir), split="sample", settings=settings, is_bundled=True,
                   annotation_file=BUNDLED / "instances_sample.json", image_dir=Path(data.data_dir))  # fmt: skip

    def instances_file(self, root: Path | None = None) -> Path:
        """The instances file ground truth is read from: the source's, or a built tree's own (``root``:
        a corruption that moved the annotations writes ``<root>/annotations/<the same name>``)."""
        return self.annotation_file if root is None else root / "annotations" / self.annotation_file.name

    def describe(self) -> dict:
        # the bundled sample is the same data in every installation, wherever scikit-image lives
        return {**super().describe(), "source": "bundled sample"} if self.is_bundled else super().describe()

    def _load(self) -> list[dict]:
        if self._images is not None:
            return self._images
        path = self.annotation_file
        if not path.is_file():
            raise DatasetError(f"annotation file {path} not found; COCO needs annotations/instances_<split>.json.")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"annotation file {path} is not valid JSON ({exc}).") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            raise DatasetError(f"annotation file {path} has no 'images' list; it is not a COCO instances file.")
        if not self.image_dir.is_dir():
            raise DatasetError(f"image folder {self.image_dir} for split {self.split!r} does not exist.")
        ids, names = set(), set()
        images = []
        for n, img in enumerate(doc["images"]):
            if not isinstance(img, dict) or "file_name" not in img or "id" not in img:
                self._problems.append(f"{path.name}: images[{n}] lacks 'id' or 'file_name'; skipped.")
                continue
            if img["id"] in ids or img["file_name"] in names:
                self._problems.append(f"{path.name}: image id {img['id']} / {img['file_name']!r} is listed twice.")
                continue
            ids.add(img["id"])
            names.add(img["file_name"])
            images.append(img)
        orphans = [a.get("id") for a in doc.get("annotations", []) if isinstance(a, dict) and a.get("image_id") not in ids]
        if orphans:
            self._problems.append(
                f"{path.name}: {len(orphans)} annotation(s) refer to no listed image (first id {orphans[0]}); carried unchanged."
            )
        self._images = images
        return images

    def expected_layout(self) -> str:
        return f"annotations/instances_{self.split}.json and its images under {self.split}/"

    def problems(self) -> list[str]:
        return list(self._problems)

    def samples(self) -> list[Sample]:
        out = []
        split_dir = PurePosixPath(self.image_dir.relative_to(self.src).as_posix()) if self.image_dir != self.src else None
        for img in sorted(self._load(), key=lambda i: str(i["file_name"])):
            name = str(img["file_name"])
            rel = PurePosixPath(name.replace("\\", "/"))
            problem = None
            if rel.is_absolute() or ".." in rel.parts:
                problem = f"{self.annotation_file.name}: file_name {name!r} points outside --src; it must be a path inside {self.image_dir}."
            source = str(split_dir / rel) if split_dir else str(rel)
            out.append(Sample(key=name, source=source, output=output_name(f"{self.split}/{name}", self.settings.image_format),
                              problem=problem))  # fmt: skip
        return out

    def carried(self) -> list[CarriedFile]:
        self._load()
        files = sorted(self.annotation_file.parent.glob(f"*_{self.split}.json"))
        if self.annotation_file not in files:
            files.append(self.annotation_file)
        if self.settings.image_format == "source":
            return [CarriedFile(f"annotations/{f.name}", source=f) for f in files]
        return [CarriedFile(f"annotations/{f.name}", data=self._rewritten(f)) for f in files]

    def _rewritten(self, path: Path, doc: dict | None = None) -> bytes:
        """The annotation file with image file names carrying the new extension."""
        doc = doc if doc is not None else json.loads(path.read_text(encoding="utf-8"))
        for img in doc.get("images", []):
            if isinstance(img, dict) and "file_name" in img:
                img["file_name"] = output_name(str(img["file_name"]), self.settings.image_format)
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    def _record(self, sample: Sample) -> tuple[dict, list[dict]]:
        path = self.annotation_file
        images, annotations = _by_file_name(path, path.stat().st_mtime_ns)
        return images.get(sample.key, {}), annotations.get(sample.key, [])

    def moved_targets(self, sample, warp, size):
        try:
            kept, dropped = warp_coco_annotations(self._record(sample)[1], warp, width=size[1], height=size[0])
        except ValueError as exc:
            raise ValueError(f"{self.annotation_file.name}: {exc}") from None
        return {}, {"annotations": kept, "dropped": dropped}

    def members(self, sample, moved_files, fields):
        """``json``: ``{"image": its record, "annotations": [...]}`` (moved ones where given)."""
        image, annotations = self._record(sample)
        image = {**image, "file_name": output_name(str(image.get("file_name", sample.key)), self.settings.image_format)}
        doc = {"image": image, "annotations": fields.get("annotations", annotations)}
        return {"json": json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()}

    def finish_tree(self, tree, rows):
        """``<tree>/annotations/<instances file>``: the images built in this tree, their annotations moved."""
        doc = json.loads(self.annotation_file.read_text(encoding="utf-8"))
        built = {row["key"]: row for row in rows if row.get("status") == "ok"}
        doc["images"] = [img for img in doc.get("images", []) if isinstance(img, dict) and str(img.get("file_name")) in built]
        doc["annotations"] = [ann for img in doc["images"] for ann in built[str(img["file_name"])].get("annotations", [])]
        data = self._rewritten(self.annotation_file, doc)
        target = self.instances_file(tree)
        if not target.exists() or target.read_bytes() != data:
            atomic_write(target, data)

    @classmethod
    def check(cls, out: Path) -> list[str]:
        problems = []
        for path in sorted([*(out / "annotations").glob("*.json"), *out.glob("*/*/annotations/*.json")]):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if "images" not in doc:
                    problems.append(f"{path}: no 'images' list.")
            except (OSError, ValueError) as exc:
                problems.append(f"{path}: does not parse ({exc}).")
        if not list((out / "annotations").glob("*.json")):
            problems.append(f"{out / 'annotations'}: no annotation file.")
        return problems
