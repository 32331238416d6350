"""Find the image(s) in a sample and rebuild the sample around the corrupted ones.

The rules follow torchvision.transforms.v2: a sample is any nesting of dicts, lists and tuples;
tv_tensors ``Image`` / ``Video`` and PIL images are images; so is a value under the key
``"image"`` or ``"img"``; failing all of those, the first plain array or tensor is the image.
Everything else (boxes, masks, keypoints, labels, ...) comes back as the very same object.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from .images import is_image_like

IMAGE_KEYS = ("image", "img")
SPATIAL_KEYS = ("boxes", "bboxes", "masks", "mask", "keypoints", "segmentation", "polygons")
SPATIAL_TV_TENSORS = ("BoundingBoxes", "Mask", "KeyPoints")


def tv_tensor_kind(value) -> str | None:
    """The tv_tensors class name of ``value`` (``"BoundingBoxes"``, ``"Image"``, ...), or None."""
    return type(value).__name__ if type(value).__module__.startswith("torchvision.tv_tensors") else None


def flatten(sample, path=()) -> list[tuple[tuple, object]]:
    """``(path, leaf)`` for every leaf; a path is the keys and indices leading to it."""
    if isinstance(sample, dict):
        return [item for key, value in sample.items() for item in flatten(value, (*path, key))]
    if isinstance(sample, list | tuple) and not tv_tensor_kind(sample):
        return [item for i, value in enumerate(sample) for item in flatten(value, (*path, i))]
    return [(path, sample)]


def rebuild(sample, replace: Callable[[tuple, object], object], path=()):
    """The sample with each leaf passed through ``replace(path, leaf)``. A container none of whose
    leaves changed is returned itself, so untouched targets (a list of labels too) are the same
    objects; the containers around a changed image are new ones of the same kind."""
    if isinstance(sample, dict):
        items = {key: rebuild(value, replace, (*path, key)) for key, value in sample.items()}
        return sample if all(items[k] is v for k, v in sample.items()) else items
    if isinstance(sample, list | tuple) and not tv_tensor_kind(sample):
        items = [rebuild(value, replace, (*path, i)) for i, value in enumerate(sample)]
        if all(new is old for new, old in zip(items, sample)):
            return sample
        if isinstance(sample, list):
            return items
        return type(sample)(*items) if hasattr(sample, "_fields") else tuple(items)  # namedtuples keep their type
    return replace(path, sample)


def image_paths(leaves: list[tuple[tuple, object]]) -> set[tuple]:
    """Where the images are, by the rules in the module docstring."""
    explicit = {path for path, leaf in leaves
                if tv_tensor_kind(leaf) in ("Image", "Video") or isinstance(leaf, Image.Image)
                or (path and path[-1] in IMAGE_KEYS and is_image_like(leaf))}  # fmt: skip
    if explicit:
        return explicit
    for path, leaf in leaves:
        if is_image_like(leaf) and tv_tensor_kind(leaf) is None:
            return {path}
    return set()


def spatial_targets(leaves: list[tuple[tuple, object]], images: set[tuple]) -> list[str]:
    """Names of the targets that locate things in the image (they would move with the content)."""
    found = []
    for path, leaf in leaves:
        if path in images:
            continue
        kind = tv_tensor_kind(leaf)
        if kind in SPATIAL_TV_TENSORS:
            found.append(kind)
        elif any(key in SPATIAL_KEYS for key in path if isinstance(key, str)):
            found.append("/".join(map(str, path)))
    return found
