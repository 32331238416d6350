"""Any tree of images, mirrored: ``<out>/<corruption>/<severity>/<relative path>``."""

from __future__ import annotations

from dataclasses import dataclass

from .base import IMAGE_EXTENSIONS, Adapter, DatasetError, Sample, output_name, walk_images


@dataclass
class FolderAdapter(Adapter):
    name = "folder"

    def expected_layout(self) -> str:
        return "a tree of image files (" + ", ".join(IMAGE_EXTENSIONS) + ")"

    def samples(self) -> list[Sample]:
        if not self.src.is_dir():
            raise DatasetError(f"--src {self.src} is not a folder.")
        out = []
        for path in walk_images(self.src):
            rel = path.relative_to(self.src).as_posix()
            out.append(Sample(key=rel, source=rel, output=output_name(rel, self.settings.image_format)))
        return out
