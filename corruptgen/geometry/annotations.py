"""Every annotation kind pushed through one :class:`~.warps.Warp`.

COCO coordinates are continuous (pixel ``i`` spans ``[i, i + 1)``), VOC boxes are 1-based
inclusive pixel indices, Cityscapes polygons are pixel coordinates; each is converted to the
warp's pixel-centre convention and back. Objects a warp leaves undetectable (nothing inside
the image, no area, or a box side under :data:`MIN_SIDE`) are dropped and counted by the caller.
"""

from __future__ import annotations

import io
import numbers
import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from .warps import Warp


class AnnotationError(ValueError):
    """An annotation cannot be warped (a malformed polygon, RLE or box); the message names it."""


MIN_SIDE = 1.0
"""The thinnest box side, in pixels, that a warped annotation keeps. A warp that pushes an object
almost out of the image can leave a sliver (16 x 0.4 px, area 0) no detector can find, which
COCOeval would count as a miss against every model: such objects are dropped, as torchvision's
``SanitizeBoundingBoxes(min_size=1)`` drops them."""


def detectable(width: float, height: float, area: float) -> bool:
    """Whether a warped object is kept: both box sides at least :data:`MIN_SIDE` and some area.

    >>> detectable(16.3, 0.36, 5.9), detectable(3, 2, 0.0), detectable(1, 1, 1.0)
    (False, False, True)
    """
    return min(width, height) >= MIN_SIDE and area > 0


def clip_polygon(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Sutherland-Hodgman clipping of a polygon (N x 2) to the rectangle [0, width] x [0, height]."""
    for axis, limit, keep_below in ((0, 0.0, False), (0, width, True), (1, 0.0, False), (1, height, True)):
        if len(xy) == 0:
            break
        inside = xy[:, axis] <= limit if keep_below else xy[:, axis] >= limit
        out = []
        for i in range(len(xy)):
            cur, prev = xy[i], xy[i - 1]
            if inside[i] != inside[i - 1]:
                t = (limit - prev[axis]) / (cur[axis] - prev[axis])
                out.append(prev + t * (cur - prev))
            if inside[i]:
                out.append(cur)
        xy = np.array(out).reshape(-1, 2)
    return xy


def _polygon_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _continuous(warp: Warp, xy: np.ndarray) -> np.ndarray:
    """Warp points given in COCO's continuous coordinates (pixel centres at +0.5)."""
    return warp.points(np.asarray(xy, dtype=float) - 0.5) + 0.5


def warp_box(warp: Warp, x0: float, y0: float, x1: float, y1: float, width: int, height: int, *,
             keep_empty: bool = False):
    """The box ``(x0, y0, x1, y1)`` (continuous coordinates) moved: its warped corners' enclosing box,
    clipped to the image; None when it is not :func:`detectable`, unless ``keep_empty`` (the
    clipped box is then returned whatever its size, as torchvision's geometric transforms do)."""
    corners = _continuous(warp, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    lo = np.clip(corners.min(axis=0), 0, [width, height])
    hi = np.maximum(np.clip(corners.max(axis=0), 0, [width, height]), lo)
    sides = hi - lo
    return (*lo, *hi) if keep_empty or detectable(sides[0], sides[1], sides[0] * sides[1]) else None


def _numbers(values, what: str) -> np.ndarray:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, numbers.Real) for v in values):
        raise AnnotationError(f"{what} is not a list of numbers.")
    return np.asarray(values, dtype=float)


def warp_coco_annotation(ann: dict, warp: Warp, width: int, height: int) -> dict | None:
    """One COCO annotation through ``warp`` (None when nothing of it stays in the image).

    Polygons: vertices mapped, clipped to the image, ``area`` = pixels of the rasterised
    polygons (as COCO computes it), ``bbox`` their extent. RLE: decoded, warped with nearest
    neighbour, re-encoded (compressed counts). Box only: the warped corners' enclosing box.
    Keypoints: mapped; those landing outside become ``(0, 0, 0)`` and leave ``num_keypoints``.
    """
    what = f"annotation id {ann.get('id')}"
    out = dict(ann)
    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg:
        polygons = []
        for n, poly in enumerate(seg):
            coords = _numbers(poly, f"{what}: segmentation[{n}]")
            if len(coords) < 6 or len(coords) % 2:
                raise AnnotationError(f"{what}: segmentation[{n}] has {len(coords)} coordinates; a polygon needs "
                                      "an even number, at least 6.")  # fmt: skip
            xy = clip_polygon(_continuous(warp, coords.reshape(-1, 2)), width, height)
            if len(xy) >= 3 and _polygon_area(xy) > 0:
                polygons.append(xy)
        if not polygons:
            return None
        flat = [np.round(xy, 2).ravel().tolist() for xy in polygons]
        area = float(mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(flat, height, width))))
        every = np.concatenate(polygons)
        lo, hi = every.min(axis=0), every.max(axis=0)
        if not detectable(*(hi - lo), area):
            return None
        out.update(segmentation=flat, area=area, bbox=np.round([*lo, *(hi - lo)], 2).tolist())
    elif isinstance(seg, dict):
        warped = _warp_rle(seg, warp, width, height, what)
        if warped is None:
            return None
        out.update(warped)
    else:
        box = ann.get("bbox")
        coords = _numbers(box, f"{what}: bbox")
        if len(coords) != 4 or coords[2] < 0 or coords[3] < 0:
            raise AnnotationError(f"{what}: bbox {box} is not [x, y, width, height].")
        warped = warp_box(warp, coords[0], coords[1], coords[0] + coords[2], coords[1] + coords[3], width, height)
        if warped is None:
            return None
        x0, y0, x1, y1 = warped
        out.update(bbox=np.round([x0, y0, x1 - x0, y1 - y0], 2).tolist(), area=round(float((x1 - x0) * (y1 - y0)), 2))
    if "keypoints" in ann:
        kp = _numbers(ann["keypoints"], f"{what}: keypoints")
        if len(kp) % 3:
            raise AnnotationError(f"{what}: keypoints has {len(kp)} values; expected x, y, v triples.")
        kp = kp.reshape(-1, 3)
        visible = kp[:, 2] > 0
        if visible.any():
            kp[visible, :2] = _continuous(warp, kp[visible, :2])
        outside = visible & ((kp[:, 0] < 0) | (kp[:, 0] >= width) | (kp[:, 1] < 0) | (kp[:, 1] >= height))
        kp[outside] = 0
        kp[:, :2] = np.round(kp[:, :2], 2)
        out["keypoints"] = [int(v) if float(v).is_integer() else float(v) for v in kp.ravel()]
        out["num_keypoints"] = int((kp[:, 2] > 0).sum())
    return out


def _warp_rle(seg: dict, warp: Warp, width: int, height: int, what: str) -> dict | None:
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2) or not isinstance(counts, (list, str, bytes)):
        raise AnnotationError(f"{what}: segmentation is neither polygons nor an RLE with 'size' and 'counts'.")
    if list(size) != [height, width]:
        raise AnnotationError(f"{what}: RLE size {size} differs from the image's {[height, width]}.")
    try:
        rle = mask_utils.frPyObjects(seg, height, width) if isinstance(counts, list) else seg
        mask = mask_utils.decode(rle)
    except Exception as exc:  # pycocotools raises bare Exceptions on bad counts
        raise AnnotationError(f"{what}: RLE does not decode ({exc}).") from None
    warped = warp.image(mask[:, :, None], nearest=True)[:, :, 0]
    if not warped.any():
        return None
    encoded = mask_utils.encode(np.asfortranarray(warped))
    bbox = [round(float(v), 2) for v in mask_utils.toBbox(encoded)]
    area = float(mask_utils.area(encoded))
    if not detectable(bbox[2], bbox[3], area):  # a mask's box is whole pixels: only an empty one fails
        return None
    encoded["counts"] = encoded["counts"].decode("ascii")
    return {"segmentation": encoded, "area": area, "bbox": bbox}


def warp_coco_annotations(anns: list[dict], warp: Warp, width: int, height: int) -> tuple[list[dict], int]:
    """One image's annotations warped; those left undetectable are dropped and counted."""
    kept = [a for a in (warp_coco_annotation(ann, warp, width, height) for ann in anns) if a is not None]
    return kept, len(anns) - len(kept)


def warp_voc_xml(data: bytes, warp: Warp, display: str) -> tuple[bytes, int]:
    """A VOC annotation XML with every ``bndbox`` mapped (1-based inclusive pixel indices), clipped to
    ``size``; objects left undetectable are removed and counted."""
    try:
        root = ET.fromstring(data)
        width, height = int(root.findtext("size/width")), int(root.findtext("size/height"))
    except (ET.ParseError, TypeError, ValueError) as exc:
        raise AnnotationError(f"{display}: not a VOC annotation with <size> ({exc}).") from None
    dropped = 0
    for n, obj in enumerate(root.findall("object")):
        box = obj.find("bndbox")
        try:
            xmin, ymin, xmax, ymax = (float(box.findtext(tag)) for tag in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            raise AnnotationError(f"{display}: object {n} ({obj.findtext('name')}) has no numeric bndbox.") from None
        warped = warp_box(warp, xmin - 1, ymin - 1, xmax, ymax, width, height)
        if warped is None or round(warped[2]) <= round(warped[0]) or round(warped[3]) <= round(warped[1]):
            root.remove(obj)
            dropped += 1
            continue
        x0, y0, x1, y1 = warped
        for tag, value in (("xmin", round(x0) + 1), ("ymin", round(y0) + 1), ("xmax", round(x1)), ("ymax", round(y1))):
            box.find(tag).text = str(int(value))
    return ET.tostring(root, encoding="unicode").encode("utf-8"), dropped


def warp_label_png(data: bytes, warp: Warp, fill: int, display: str) -> bytes:
    """A label, instance or colour PNG warped with nearest neighbour; uncovered pixels get ``fill``.
    Palette, 8-bit, 16-bit and RGB images keep their mode (16-bit instance ids stay 16-bit)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            mode, palette = img.mode, img.getpalette() if img.mode == "P" else None
            pixels = np.asarray(img)
    except (OSError, ValueError) as exc:
        raise AnnotationError(f"{display}: not a readable PNG ({exc}).") from None
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = pixels.astype(np.uint16)
    hwc = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    warped = warp.image(hwc, nearest=True, fill=fill).reshape(pixels.shape)
    out = Image.fromarray(warped.astype(pixels.dtype))
    if palette is not None:
        out = Image.fromarray(warped.astype(np.uint8), mode="P")
        out.putpalette(palette)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()


def warp_polygons(objects: list[dict], warp: Warp, width: int, height: int, display: str) -> tuple[list[dict], int]:
    """Cityscapes ``polygons.json`` objects (``polygon``: [[x, y], ...] in pixels) mapped and clipped;
    objects left undetectable (no area, or a side of their extent under :data:`MIN_SIDE`) are
    dropped and counted."""
    kept = []
    for n, obj in enumerate(objects):
        try:
            xy = np.asarray(obj["polygon"], dtype=float).reshape(-1, 2)
        except (KeyError, TypeError, ValueError):
            raise AnnotationError(f"{display}: object {n} ({obj.get('label')}) has no [[x, y], ...] polygon.") from None
        xy = clip_polygon(warp.points(xy), width - 1, height - 1) if len(xy) else xy
        if len(xy) >= 3 and detectable(*np.ptp(xy, axis=0), _polygon_area(xy)):
            kept.append({**obj, "polygon": np.round(xy, 2).tolist()})
    return kept, len(objects) - len(kept)
