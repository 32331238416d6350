"""torchvision v2 targets moved with a geometric corruption: ``BoundingBoxes``, ``Mask``, ``KeyPoints``.

The warp is the one the corruption applied to the image: rebuilt from the same parameters
(``corruption``, ``severity``, ``seed``) and the image's size, and every target goes through
:mod:`corruptgen.geometry`. As torchvision's own geometric transforms do, boxes are clipped to
the canvas and kept (``SanitizeBoundingBoxes`` drops the empty ones), so labels stay aligned.
torch and torchvision are imported only when such a target is there.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from corruptgen.corruptions import get_corruption
from corruptgen.geometry.annotations import warp_box
from corruptgen.rng import as_generator


def image_size(image) -> tuple[int, int]:
    """(height, width) of a numpy / PIL / tensor image."""
    if isinstance(image, Image.Image):
        return image.height, image.width
    if isinstance(image, np.ndarray):
        return image.shape[0], image.shape[1]
    return int(image.shape[-2]), int(image.shape[-1])


def warp_for(params: dict, size: tuple[int, int], profile: str):
    """The warp ``corrupt`` applies with these parameters to an image of ``size``; None if none."""
    spec = get_corruption(params["corruption"])
    if not spec.can_warp or not spec.is_geometric(profile):
        return None
    p = spec.params(params["severity"], profile)
    shape = (*size, 3)
    return spec.warp(shape, p, **spec.sample(as_generator(params["seed"]), shape, p))


def _move_mask(target, warp):
    from torchvision import tv_tensors

    masks = target.detach().cpu().numpy()
    flat = masks.reshape(-1, *masks.shape[-2:])
    moved = np.stack([warp.image(m[:, :, None], nearest=True)[:, :, 0] for m in flat]) if len(flat) else flat
    return tv_tensors.wrap(target.new_tensor(moved.reshape(masks.shape)), like=target)


def _move_boxes(target, warp):
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional as F

    height, width = target.canvas_size
    xyxy = F.convert_bounding_box_format(target, new_format=tv_tensors.BoundingBoxFormat.XYXY)
    boxes = xyxy.detach().cpu().numpy().astype(float).reshape(-1, 4)
    moved = np.array([warp_box(warp, *box, width, height, keep_empty=True) for box in boxes]).reshape(boxes.shape)
    out = tv_tensors.wrap(xyxy.new_tensor(moved.reshape(xyxy.shape)), like=xyxy)
    return F.convert_bounding_box_format(out, new_format=target.format)


def _move_points(target, warp):
    from torchvision import tv_tensors

    points = target.detach().cpu().numpy().astype(float)
    moved = warp.points(points.reshape(-1, 2) - 0.5) + 0.5  # continuous coordinates, as boxes
    return tv_tensors.wrap(target.new_tensor(moved.reshape(points.shape)), like=target)


MOVERS = {"Mask": _move_mask, "BoundingBoxes": _move_boxes, "KeyPoints": _move_points}
"""tv_tensor class name -> how it moves (the kinds :data:`.structure.SPATIAL_TV_TENSORS` lists)."""


def move(target, warp):
    """A ``BoundingBoxes`` / ``Mask`` / ``KeyPoints`` moved by ``warp``, the same class and metadata."""
    return MOVERS[type(target).__name__](target, warp)
