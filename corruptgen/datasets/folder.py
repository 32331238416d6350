"""Any tree of images, mirrored: ``<out>/<corruption>/<severity>/<relative path>``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import IMAGE_EXTENSIONS, Adapter, DatasetError, NamedClass, Sample, output_name, walk_images


@dataclass
class FolderAdapter(Adapter):
    name = "folder"
    _classes: dict[str, int] | None = field(default=None, repr=False)

    def expected_layout(self) -> str:
        return "a tree of image files (" + ", ".join(IMAGE_EXTENSIONS) + ")"

    def samples(self) -> list[Sample]:
        if not self.src.is_dir():
            raise DatasetError(f"--src {self.src} is not a folder.")
        out = []
        for path in walk_images(self.src):
            rel = path.relative_to(self.src).as_posix()
            out.append(Sample(key=rel, source=rel, output=output_name(rel, self.settings.image_format)))
        self._classes = {name: i for i, name in enumerate(sorted({s.key.split("/")[0] for s in out if "/" in s.key}))}
        return out

    def class_list(self) -> list:
        """The class folders, sorted (their names are the classes' names)."""
        if self._classes is None:
            self.samples()
        return [NamedClass(name.replace("_", " ")) for name in sorted(self._classes, key=self._classes.get)]

    def label(self, sample: Sample) -> int | None:
        """The index of the sample's top-level folder among them, sorted (torchvision's ImageFolder);
        None for an image at the top level."""
        if self._classes is None:
            self.samples()
        return self._classes.get(sample.key.split("/")[0]) if "/" in sample.key else None
