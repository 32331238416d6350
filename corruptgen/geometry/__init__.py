"""Geometry: the warp a content-moving corruption applied, and every annotation pushed through it.

Below the build engine and the augmentation, above the kernels. A geometric corruption's
``warp(shape, params, **draws)`` returns a :class:`Warp`; :mod:`.annotations` maps COCO
polygons, RLE masks, boxes and keypoints, VOC boxes, label and instance maps and Cityscapes
polygons through it.
"""

from .annotations import AnnotationError
from .warps import AffineWarp, ChainWarp, FieldWarp, Warp

__all__ = ["AffineWarp", "AnnotationError", "ChainWarp", "FieldWarp", "Warp"]
