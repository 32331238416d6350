"""Dataset adapters: one per source format."""

from __future__ import annotations

from .base import Adapter, BuildSettings, CarriedFile, DatasetError, Sample, SampleError
from .cityscapes import CityscapesAdapter
from .coco import CocoAdapter
from .folder import FolderAdapter
from .imagenet import ImageNetAdapter
from .mnist import MnistAdapter
from .voc import VocAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "imagenet": ImageNetAdapter,
    "coco": CocoAdapter,
    "voc": VocAdapter,
    "cityscapes": CityscapesAdapter,
    "mnist": MnistAdapter,
    "folder": FolderAdapter,
}

__all__ = ["ADAPTERS", "Adapter", "BuildSettings", "CarriedFile", "DatasetError", "Sample", "SampleError"]
