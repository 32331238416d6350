"""ImageNet in ImageFolder layout (``<split>/<wnid>/*.JPEG``) -> ImageNet-C's tree.

Output: ``<out>/<corruption>/<severity>/<wnid>/<file>``, every class folder present in every
tree (torchvision's ImageFolder numbers classes by sorted folder names). By default each
image is preprocessed as ImageNet-C was made, Resize(256) + CenterCrop(224), and written as
JPEG quality 85 (``--no-imagenet-c-preprocessing`` keeps sizes and the source format).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .base import Adapter, DatasetError, Sample, decode_image, output_name, walk_images


def resize_center_crop(pixels: np.ndarray, resize: int = 256, crop: int = 224) -> np.ndarray:
    """torchvision's Resize(256) (shorter side, bilinear) + CenterCrop(224), on PIL like torchvision."""
    img = Image.fromarray(pixels)
    w, h = img.size
    if w <= h:
        size = (resize, int(resize * h / w))
    else:
        size = (int(resize * w / h), resize)
    img = img.resize(size, Image.BILINEAR)
    w, h = img.size
    left, top = int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))
    return np.asarray(img.crop((left, top, left + crop, top + crop)))


@dataclass
class ImageNetAdapter(Adapter):
    name = "imagenet"
    preprocess: bool = True

    def __post_init__(self):
        self.split = self.split or "val"

    def describe(self) -> dict:
        return {**super().describe(), "preprocessing": "resize256-centercrop224" if self.preprocess else None}

    def _root(self):
        root = self.src / self.split
        if not root.is_dir():
            raise DatasetError(f"split folder {root} does not exist; pass --split with a folder of class folders.")
        return root

    def tree_dirs(self) -> list[str]:
        return sorted(p.name for p in self._root().iterdir() if p.is_dir() and not p.name.startswith("."))

    def samples(self) -> list[Sample]:
        root = self._root()
        out = []
        for wnid in self.tree_dirs():
            for path in walk_images(root / wnid):
                rel = path.relative_to(root).as_posix()
                src = path.relative_to(self.src).as_posix()
                out.append(Sample(key=rel, source=src, output=output_name(rel, self.settings.image_format)))
        return out

    def load(self, sample: Sample):
        pixels, note = decode_image(self.src / sample.source, sample.source)
        if self.preprocess:
            pixels = resize_center_crop(pixels)
        return pixels, note
