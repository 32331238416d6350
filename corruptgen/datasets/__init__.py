"""Dataset adapters: one per source format, and the one way to make one (:func:`make_adapter`)."""

from __future__ import annotations

from pathlib import Path

from .base import Adapter, BuildSettings, CarriedFile, DatasetError, Sample, SampleError
from .cifar import Cifar100Adapter, CifarAdapter
from .cityscapes import CityscapesAdapter
from .coco import CocoAdapter
from .folder import FolderAdapter
from .grouped import GROUPED_SETS, GroupedAdapter
from .imagenet import ImageNetAdapter
from .mnist import MnistAdapter
from .natural import NATURAL_SHIFTS, NaturalShiftAdapter
from .voc import VocAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "imagenet": ImageNetAdapter,
    "coco": CocoAdapter,
    "voc": VocAdapter,
    "cityscapes": CityscapesAdapter,
    "mnist": MnistAdapter,
    "cifar10": CifarAdapter,
    "cifar100": Cifar100Adapter,
    "folder": FolderAdapter,
    **NATURAL_SHIFTS,
    **GROUPED_SETS,
}

class SourceRequired(DatasetError):
    """No source was given for a dataset kind that has no bundled sample (a usage error)."""


def make_adapter(kind: str, src: Path | None, split: str | None = None, settings: BuildSettings | None = None, *,
                 preprocess: bool = True, labels: Path | None = None, keys: Path | None = None,
                 classes_of: str | None = None, border: int | None = None) -> Adapter:  # fmt: skip
    """The adapter of dataset ``kind`` over ``src`` (coco: the bundled sample when ``src`` is None).

    ``preprocess``, ``labels``, ``keys`` and ``classes_of`` are ImageNet's (Resize(256) + CenterCrop(224); the
    devkit or LOC_val_solution.csv of a flat folder or archive; a file of the samples to build; a label space
    whose classes alone are read); the natural shifts take ``preprocess`` and ``border`` (ObjectNet's crop);
    other kinds ignore them.

    Examples
    --------
    >>> make_adapter("coco", None).describe()["source"]
    'bundled sample'
    """
    if kind not in ADAPTERS:
        raise DatasetError(f"unknown dataset {kind!r}; valid kinds are {', '.join(ADAPTERS)}.")
    settings = settings or BuildSettings()
    if src is None:
        if kind != "coco":
            raise SourceRequired(f"--src is required for {kind} (only coco has a bundled sample).")
        return CocoAdapter.bundled(settings)
    if kind == "imagenet":
        return ImageNetAdapter(src=Path(src), split=split, settings=settings, preprocess=preprocess, labels=labels,
                               keys=keys, classes_of=classes_of)  # fmt: skip
    if kind in NATURAL_SHIFTS:
        extra = {} if border is None else {"border": border}
        return NATURAL_SHIFTS[kind](src=Path(src), settings=settings, preprocess=preprocess, **extra)
    return ADAPTERS[kind](src=Path(src), split=split, settings=settings)


def adapter_from_identity(identity: dict) -> Adapter:
    """The adapter a build recorded in its ``corruptgen.json`` identity (evaluation reads the clean
    source, and ImageNet's preprocessing, exactly as the build did)."""
    source = identity.get("source")
    settings = BuildSettings(image_format=identity.get("image_format") or "source",
                             jpeg_quality=identity.get("jpeg_quality") or 95)  # fmt: skip
    labels = Path(identity["labels"]) if identity.get("labels") else None
    keys = Path(identity["keys_file"]) if identity.get("keys_file") else None
    return make_adapter(identity.get("dataset"), None if source == "bundled sample" else Path(source or ""),
                        identity.get("split"), settings, preprocess=bool(identity.get("preprocessing")), labels=labels,
                        keys=keys, classes_of=identity.get("classes_of"), border=identity.get("border"))  # fmt: skip


__all__ = ["ADAPTERS", "GROUPED_SETS", "GroupedAdapter", "NATURAL_SHIFTS", "NaturalShiftAdapter", "SourceRequired", "adapter_from_identity", "make_adapter", "Adapter", "BuildSettings", "CarriedFile", "DatasetError", "Sample", "SampleError"]
