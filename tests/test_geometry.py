"""Geometric corruptions and the annotations they carry: warps checked against the pixels they
move, every annotation kind through them, and builds read back by pycocotools,
ElementTree and cityscapesscripts."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures import assert_box_fits_pixels, make_cityscapes, photo, tree_digest, warp_gain
from matplotlib.path import Path as MplPath
from PIL import Image
from pycocotools import mask as mask_utils
from skimage import transform

from corruptgen.api import corrupt_rgb_or_gray
from corruptgen.cli import main
from corruptgen.corruptions import get_corruption
from corruptgen.geometry import AffineWarp, AnnotationError, FieldWarp
from corruptgen.geometry.annotations import (
    clip_polygon,
    warp_coco_annotation,
    warp_coco_annotations,
    warp_label_png,
    warp_polygons,
    warp_voc_xml,
)

GEOMETRIC = ("shear", "rotate", "scale", "translate")
CASES = [(name, s, "imagenet") for name in GEOMETRIC for s in range(1, 6)] + [(name, 1, "mnist-c") for name in GEOMETRIC]


def rectangle_image(height=96, width=128, box=(40, 30, 88, 66)) -> np.ndarray:
    """A white filled rectangle (x0, y0, x1, y1 in continuous coordinates) on black, RGB."""
    image = np.zeros((height, width, 3), np.uint8)
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = 255
    return image


def pixel_box(image: np.ndarray):
    ys, xs = np.nonzero(image[:, :, 0] > 127)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def run(name, severity, profile, image, seed=0):
    return corrupt_rgb_or_gray(image, get_corruption(name), severity, np.random.default_rng(seed), profile, with_warp=True)


@pytest.mark.parametrize("name,severity,profile", CASES)
def test_warped_box_matches_the_warped_rectangle(name, severity, profile):
    image = rectangle_image()
    out, warp = run(name, severity, profile, image)
    ann = {"id": 1, "bbox": [40, 30, 48, 36], "area": 48 * 36}
    moved = warp_coco_annotation(ann, warp, width=128, height=96)
    x, y, w, h = moved["bbox"]
    assert_box_fits_pixels((x, y, x + w, y + h), out[:, :, 0] > 127, warp_gain(name, severity, profile))


@pytest.mark.parametrize("seed", range(3))
def test_cifar_elastic_transform_moves_masks_with_its_affine_and_field(seed):
    image = rectangle_image(64, 64, (16, 20, 44, 40))
    out, warp = run("elastic_transform", 5, "cifar", image, seed)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 16:44] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle["counts"] = rle["counts"].decode()
    moved = warp_coco_annotation({"id": 1, "segmentation": rle, "iscrowd": 1}, warp, 64, 64)
    warped = mask_utils.decode(moved["segmentation"]).astype(bool)
    truth = out[:, :, 0] > 127
    assert (warped & truth).sum() / (warped | truth).sum() > 0.9


def test_imagenet_elastic_field_sends_points_to_the_pixels_that_sample_them():
    """ImageNet-C's field is rough (it folds, and leaves some source pixels unsampled), so a point lands
    on the output pixel whose sample is nearest to it: checked against every pixel of the image."""
    rng = np.random.default_rng(0)
    spec = get_corruption("elastic_transform")
    p = spec.params(5)
    warp = spec.warp((224, 200, 3), p, **spec.sample(rng, (224, 200, 3), p))
    assert isinstance(warp, FieldWarp) and np.abs(warp.dx).max() > 5
    sources = rng.uniform([5, 5], [195, 219], size=(300, 2))
    landed = warp.points(sources)
    ys, xs = np.mgrid[: warp.dx.shape[0], : warp.dx.shape[1]]
    every = np.stack([(xs + warp.dx).ravel(), (ys + warp.dy).ravel()], axis=1)  # where each output pixel samples
    nearest = np.array([np.argmin(np.hypot(*(every - q).T)) for q in sources])
    nearest_pixel = np.stack([xs.ravel()[nearest], ys.ravel()[nearest]], axis=1)
    assert np.abs(landed - nearest_pixel).max() <= 0.5  # within the pixel, moved by the sub-pixel remainder


STAR = np.array([[64, 10], [76, 40], [110, 42], [84, 62], [94, 90], [64, 74], [34, 90], [44, 62], [18, 42], [52, 40]],
                float)  # fmt: skip  # a polygon with thin tips, COCO's continuous coordinates, in a 128 x 100 image


def star_warps():
    return [(name, s, run(name, s, "imagenet", rectangle_image(100, 128))[1]) for name in GEOMETRIC for s in (1, 3, 5)]


def pixel_centres(height, width):
    ys, xs = np.mgrid[:height, :width]
    return xs, ys


def distance_to_outline(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest edge of the closed ``polygon``."""
    a, b = polygon, np.roll(polygon, -1, axis=0)
    t = np.clip(((points[:, None] - a) * (b - a)).sum(-1) / ((b - a) ** 2).sum(-1), 0, 1)
    return np.hypot(*(points[:, None] - (a + t[..., None] * (b - a))).transpose(2, 0, 1)).min(axis=1)


def test_a_moved_polygon_is_its_moved_vertices():
    polygon = [STAR.ravel().tolist()]
    for name, severity, warp in star_warps():
        moved = warp_coco_annotation({"id": 1, "segmentation": polygon}, warp, 128, 100)
        vertices = clip_polygon(warp.points(STAR - 0.5) + 0.5, 128, 100)  # COCO's pixel centres are at +0.5
        np.testing.assert_allclose(np.reshape(moved["segmentation"], (-1, 2)), vertices, atol=0.005, err_msg=name)
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        np.testing.assert_allclose(moved["bbox"], [*lo, *(hi - lo)], atol=0.01, err_msg=f"{name} {severity}")
        assert moved["area"] == mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(moved["segmentation"], 100, 128)))


def test_a_moved_mask_samples_its_source_at_the_nearest_pixel():
    """The RLE warp is nearest-neighbour sampling through the inverse map, pixel for pixel; only where a
    source coordinate sits on a half-pixel (a tie OpenCV's 10-bit fixed point may round either way) may
    the pixel differ from this NumPy reference."""
    rle = mask_utils.merge(mask_utils.frPyObjects([STAR.ravel().tolist()], 100, 128))
    source = mask_utils.decode(rle).astype(bool)
    xs, ys = pixel_centres(100, 128)
    for name, severity, warp in star_warps():
        moved = warp_coco_annotation({"id": 2, "segmentation": {**rle, "counts": rle["counts"].decode()}}, warp, 128, 100)
        ours = mask_utils.decode(moved["segmentation"]).astype(bool)
        m = warp.inverse
        sx, sy = m[0, 0] * xs + m[0, 1] * ys + m[0, 2], m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
        rx, ry = np.floor(sx + 0.5).astype(int), np.floor(sy + 0.5).astype(int)
        inside = (rx >= 0) & (rx < 128) & (ry >= 0) & (ry < 100)
        reference = np.zeros_like(ours)
        reference[inside] = source[ry[inside], rx[inside]]
        tie = np.minimum(np.abs(sx % 1 - 0.5), np.abs(sy % 1 - 0.5)) <= 2**-9
        assert not (ours != reference)[~tie].any(), (name, severity)
        assert moved["bbox"] == list(mask_utils.toBbox(mask_utils.encode(np.asfortranarray(ours.astype(np.uint8)))))


def test_a_moved_mask_and_its_moved_polygon_differ_only_along_the_outline():
    """The same star warped as a polygon and as its RLE mask: the two rasterisations can disagree only
    within reach of the warped outline. A pixel of the warped mask copies the source pixel nearest to its
    preimage (at most half a pixel's diagonal away), and pycocotools rasterises the source within half a
    diagonal of the outline: so a disagreeing output pixel centre lies within sqrt(2) source pixels of the
    outline, at most sqrt(2) * |A| output pixels (A the warp's linear part, |A| its spectral norm). Their
    boxes are not compared: a tip thinner than that reach may keep no pixel in one and some in the other."""
    polygon = [STAR.ravel().tolist()]
    rle = mask_utils.merge(mask_utils.frPyObjects(polygon, 100, 128))
    xs, ys = pixel_centres(100, 128)
    centres = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=1)  # COCO's continuous coordinates
    for name, severity, warp in star_warps():
        by_polygon = warp_coco_annotation({"id": 1, "segmentation": polygon}, warp, 128, 100)
        by_mask = warp_coco_annotation({"id": 2, "segmentation": {**rle, "counts": rle["counts"].decode()}}, warp, 128, 100)
        outline = np.reshape(by_polygon["segmentation"], (-1, 2))
        inside = MplPath(outline).contains_points(centres).reshape(100, 128)
        differs = (mask_utils.decode(by_mask["segmentation"]).astype(bool) != inside).ravel()
        reach = np.sqrt(2) * np.linalg.norm(warp.forward[:2, :2], 2)
        assert distance_to_outline(centres[differs], outline).max() <= reach, (name, severity)


def test_objects_pushed_out_are_dropped_and_counted_and_keypoints_leave():
    away = AffineWarp(np.array([[1, 0, -60], [0, 1, 0], [0, 0, 1]], float))  # content moves 60 px right
    anns = [
        {"id": 1, "bbox": [70, 10, 20, 20], "segmentation": [[70, 10, 90, 10, 90, 30, 70, 30]]},  # leaves
        {"id": 2, "bbox": [5, 10, 20, 20], "segmentation": [[5, 10, 25, 10, 25, 30, 5, 30]],
         "keypoints": [10, 12, 2, 50, 20, 1, 0, 0, 0], "num_keypoints": 2},
    ]  # fmt: skip
    kept, dropped = warp_coco_annotations(anns, away, width=100, height=50)
    assert dropped == 1 and [a["id"] for a in kept] == [2]
    assert kept[0]["bbox"] == [65.0, 10.0, 20.0, 20.0]
    assert kept[0]["keypoints"] == [70, 12, 2, 0, 0, 0, 0, 0, 0] and kept[0]["num_keypoints"] == 1


SLIVER = AffineWarp(np.array([[1, 0, -60.6], [0, 1, 0], [0, 0, 1]], float))
"""Content moves 60.6 px right: on a 100 px wide image, an object spanning x 38-60 keeps 1.4 px,
one spanning 39-60 a 0.4 px sliver, 16 px tall."""


def test_slivers_a_warp_leaves_are_dropped_from_coco_and_counted():
    def polygon(x0, x1):
        return [[x0, 10, x1, 10, x1, 26, x0, 26]]

    anns = [
        {"id": 1, "segmentation": polygon(39, 60), "bbox": [39, 10, 21, 16]},  # a 0.4 px polygon sliver
        {"id": 2, "bbox": [39, 10, 21, 16]},  # a box without a mask
        {"id": 3, "segmentation": polygon(38, 60), "bbox": [38, 10, 22, 16]},  # 1.4 px: kept
        {"id": 4, "bbox": [38, 10, 22, 16]},
    ]
    kept, dropped = warp_coco_annotations(anns, SLIVER, width=100, height=50)
    assert dropped == 2 and [a["id"] for a in kept] == [3, 4]
    assert all(min(a["bbox"][2:]) >= 1 and a["area"] > 0 for a in kept)
    mask = np.zeros((50, 100), np.uint8)
    mask[10:26, 39:40] = 1  # one column: after the move, whole pixels or nothing
    rle = mask_utils.encode(np.asfortranarray(mask))
    moved = warp_coco_annotation({"id": 5, "segmentation": {**rle, "counts": rle["counts"].decode()}},
                                 AffineWarp(np.array([[1, 0, -60], [0, 1, 0], [0, 0, 1]], float)), 100, 50)  # fmt: skip
    assert moved["bbox"] == [99.0, 10.0, 1.0, 16.0] and moved["area"] == 16.0


def test_slivers_a_warp_leaves_are_dropped_from_voc_and_cityscapes():
    xml = (b"<annotation><size><width>100</width><height>50</height><depth>3</depth></size>"
           b"<object><name>cat</name><bndbox><xmin>40</xmin><ymin>11</ymin><xmax>60</xmax><ymax>26</ymax></bndbox></object>"
           b"<object><name>dog</name><bndbox><xmin>39</xmin><ymin>11</ymin><xmax>60</xmax><ymax>26</ymax></bndbox></object>"
           b"</annotation>")  # 1-based inclusive: the cat spans x 39-60 continuous, the dog 38-60  # fmt: skip
    data, dropped = warp_voc_xml(xml, SLIVER, "000001.xml")
    assert dropped == 1 and [o.findtext("name") for o in ET.fromstring(data).findall("object")] == ["dog"]
    objects = [{"label": "car", "polygon": [[38, 10], [60, 10], [60, 26], [38, 26]]},
               {"label": "bus", "polygon": [[37, 10], [60, 10], [60, 26], [37, 26]]}]  # fmt: skip
    kept, dropped = warp_polygons(objects, SLIVER, 100, 50, "x_polygons.json")  # pixel centres: clipped to x <= 99
    assert dropped == 1 and [o["label"] for o in kept] == ["bus"]


def test_no_coco_build_keeps_an_annotation_a_warp_left_undetectable(tmp_path):
    """The issue's case: shear and translate at severity 4 on objects near the edges."""
    src = coco_with_shapes(tmp_path / "src")
    doc_path = src / "annotations" / "instances_val.json"
    doc = json.loads(doc_path.read_text())
    for image in doc["images"]:  # objects that translate's shift (4/28 of a side) leaves 0.4 px of, either way
        w, h = image["width"], image["height"]
        sx, sy = 4 * w / 28, 4 * h / 28
        boxes = ((sx - 7, h / 2 - 10, 7.4, 20), (w - sx - 0.4, h / 2 - 10, 7.4, 20),
                 (w / 2 - 10, sy - 7, 20, 7.4), (w / 2 - 10, h - sy - 0.4, 20, 7.4))  # fmt: skip
        for k, (x, y, bw, bh) in enumerate(boxes):
            for polygon in (None, [[x, y, x + bw, y, x + bw, y + bh, x, y + bh]]):
                doc["annotations"].append({"id": 100 * image["id"] + 10 * k + (polygon is None), "image_id": image["id"],
                                           "category_id": 1, "iscrowd": 0, "area": bw * bh, "bbox": [x, y, bw, bh],
                                           **({"segmentation": polygon} if polygon else {})})  # fmt: skip
    doc_path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    build("coco", "--src", src, "--split", "val", "--out", out, "--corruptions", "shear,translate", "--severities", "4",
          "--seed", "3")  # fmt: skip
    total_dropped = 0
    for name in ("shear", "translate"):
        moved = json.loads((out / name / "4" / "annotations" / "instances_val.json").read_text())["annotations"]
        assert all(min(a["bbox"][2:]) >= 1 and a["area"] > 0 for a in moved), name
        rows = [json.loads(line) for line in (out / "manifests" / name / "4.jsonl").read_text().splitlines()]
        dropped = sum(r["dropped"] for r in rows)
        assert dropped == len(doc["annotations"]) - len(moved), name
        total_dropped += dropped
    assert total_dropped > 0  # the edge boxes do get pushed out


def test_polygons_are_clipped_to_the_image():
    clipped = clip_polygon(np.array([[-10, -10], [20, -10], [20, 20], [-10, 20]], float), 10, 10)
    assert sorted(map(tuple, clipped.tolist())) == [(0, 0), (0, 10), (10, 0), (10, 10)]


@pytest.mark.parametrize("bad,message", [
    ({"id": 7, "segmentation": [[1, 2, 3, 4, 5]]}, "annotation id 7: segmentation[0] has 5 coordinates"),
    ({"id": 8, "segmentation": [[1, 2, "x", 4, 5, 6]]}, "annotation id 8: segmentation[0] is not a list of numbers"),
    ({"id": 9, "segmentation": {"size": [10, 10], "counts": "@@@"}}, "annotation id 9: RLE"),
    ({"id": 10, "segmentation": {"size": [5, 5], "counts": [25]}}, "RLE size [5, 5] differs"),
])  # fmt: skip
def test_malformed_annotations_are_named(bad, message):
    _, warp = run("rotate", 1, "imagenet", rectangle_image(10, 10, (2, 2, 5, 5)))
    with pytest.raises(AnnotationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        warp_coco_annotation(bad, warp, 10, 10)


def test_sixteen_bit_instance_ids_survive_and_uncovered_pixels_are_void():
    ids = np.zeros((40, 60), np.uint16)
    ids[5:35, 5:30], ids[5:35, 30:55] = 26001, 26002
    buffer = io.BytesIO()
    Image.fromarray(ids).save(buffer, format="PNG")
    _, warp = run("rotate", 3, "imagenet", rectangle_image(40, 60))
    moved = np.asarray(Image.open(io.BytesIO(warp_label_png(buffer.getvalue(), warp, 0, "ids.png"))))
    assert moved.dtype == np.uint16 and set(np.unique(moved)) == {0, 26001, 26002}
    palette = Image.fromarray(np.full((40, 60), 3, np.uint8), "L").convert("P")
    palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [224] * 756)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    with Image.open(io.BytesIO(warp_label_png(buffer.getvalue(), warp, 255, "seg.png"))) as seg:
        assert seg.mode == "P" and seg.getpalette()[:12] == palette.getpalette()[:12]
        assert set(np.unique(np.asarray(seg))) == {3, 255}  # rotated corners are void


def test_voc_boxes_move_and_leaving_objects_are_removed():
    xml = (b"<annotation><size><width>100</width><height>50</height><depth>3</depth></size>"
           b"<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object>"
           b"<object><name>dog</name><bndbox><xmin>81</xmin><ymin>1</ymin><xmax>100</xmax><ymax>50</ymax></bndbox></object>"
           b"</annotation>")  # fmt: skip
    away = AffineWarp(np.array([[1, 0, -30], [0, 1, 0], [0, 0, 1]], float))  # 30 px right
    data, dropped = warp_voc_xml(xml, away, "000001.xml")
    root = ET.fromstring(data)
    assert dropped == 1 and [o.findtext("name") for o in root.findall("object")] == ["cat"]
    box = root.find("object/bndbox")
    assert [int(box.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax")] == [31, 1, 50, 10]


def test_cityscapes_polygons_move_and_leave():
    away = AffineWarp(np.array([[1, 0, 0], [0, 1, -40], [0, 0, 1]], float))  # 40 px down
    objects = [{"label": "car", "polygon": [[0, 0], [10, 0], [10, 5], [0, 5]]},
               {"label": "road", "polygon": [[0, 20], [63, 20], [63, 31], [0, 31]]}]  # fmt: skip
    kept, dropped = warp_polygons(objects, away, 64, 48, "x_polygons.json")
    assert dropped == 1 and kept == [{"label": "car", "polygon": [[0.0, 40.0], [10.0, 40.0], [10.0, 45.0], [0.0, 45.0]]}]


def test_geometric_pixels_match_scikit_image_at_28_px():
    """MNIST-C warps with scikit-image (bilinear, zero outside); OpenCV's 1/32 px grid stays within
    about a gray level of it on a digit."""
    digit = photo(1, 28, 28)[:, :, :1]
    centre = 13.5
    for name, linear in (("rotate", lambda a: transform.AffineTransform(rotation=a).params[:2, :2]),
                         ("shear", lambda a: np.array([[1, -np.sin(a)], [0, np.cos(a)]])),
                         ("scale", lambda a: np.eye(2) / 0.7)):  # fmt: skip
        for seed in range(4):
            ours = run(name, 1, "mnist-c", digit, seed)[0]
            spec = get_corruption(name)
            sign = spec.sample(np.random.default_rng(seed), digit.shape, spec.params(1, "mnist-c")).get("sign", 1)
            m = np.eye(3)
            m[:2, :2] = linear(sign * 0.4)
            m[:2, 2] = centre - m[:2, :2] @ [centre, centre]
            reference = transform.warp(digit[:, :, 0] / 255, inverse_map=transform.AffineTransform(m)) * 255
            diff = np.abs(ours[:, :, 0].astype(float) - np.clip(reference, 0, 255).astype(np.uint8))
            assert diff.mean() < 0.6 and np.percentile(diff, 99) <= 6, (name, seed, diff.mean())


def coco_with_shapes(root: Path, bad: bool = False) -> Path:
    """Two images, each a bright polygon (annotated as a polygon) and a bright square annotated as a
    crowd RLE, with keypoints on the polygon's corners."""
    (root / "val").mkdir(parents=True)
    (root / "annotations").mkdir()
    images, anns = [], []
    for i, (h, w) in enumerate(((90, 120), (100, 80))):
        canvas = np.full((h, w, 3), 20, np.uint8)
        poly = np.array([[20, 15], [55, 20], [50, 50], [25, 45]], np.int32) + i * 5
        import cv2

        cv2.fillPoly(canvas, [poly], (250, 250, 250))
        square = np.zeros((h, w), np.uint8)
        square[60:75, 55:70] = 1
        canvas[square == 1] = 250
        name = f"{i:03d}.png"
        Image.fromarray(canvas).save(root / "val" / name)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
        # polygon vertices at pixel-centre coordinates + 0.5: the continuous outline of the filled pixels
        outline = (poly + 0.5).ravel().tolist()
        if bad and i == 1:
            outline = outline[:5]
        rle = mask_utils.encode(np.asfortranarray(square))
        anns.append({"id": 2 * i + 1, "image_id": i + 1, "category_id": 1, "segmentation": [outline], "iscrowd": 0,
                     "area": 1000.0, "bbox": [20, 15, 35, 35],
                     "keypoints": [*(poly[0] + 0.5), 2, *(poly[2] + 0.5), 2], "num_keypoints": 2})  # fmt: skip
        anns.append({"id": 2 * i + 2, "image_id": i + 1, "category_id": 2, "iscrowd": 1, "area": 225.0,
                     "bbox": [55, 60, 15, 15], "segmentation": {"size": [h, w], "counts": rle["counts"].decode()}})  # fmt: skip
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": 1, "name": "shape", "keypoints": ["a", "b"]}, {"id": 2, "name": "square"}]}  # fmt: skip
    (root / "annotations" / "instances_val.json").write_text(json.dumps(doc))
    return root


def build(*args, expect=0):
    result = CliRunner().invoke(main, ["build", *map(str, args)])
    assert result.exit_code == expect, result.output + str(result.exception)
    return result


def test_coco_build_moves_annotations_onto_the_objects_and_scores_ap_1(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    src = coco_with_shapes(tmp_path / "src")
    out = tmp_path / "out"
    build("coco", "--src", src, "--split", "val", "--out", out, "--corruptions", ",".join(GEOMETRIC), "--severities", "1,5",
          "--image-format", "png")  # fmt: skip
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0
    for name in GEOMETRIC:
        for severity in (1, 5):
            tree = out / name / str(severity)
            gt = COCO(str(tree / "annotations" / "instances_val.json"))
            assert len(gt.getImgIds()) == 2
            for img in gt.loadImgs(gt.getImgIds()):
                pixels = np.asarray(Image.open(tree / "val" / img["file_name"]))[:, :, 0] > 127
                union = np.zeros_like(pixels)
                for ann in gt.loadAnns(gt.getAnnIds(imgIds=img["id"])):
                    union |= gt.annToMask(ann).astype(bool)
                iou = (union & pixels).sum() / (union | pixels).sum()
                assert iou > 0.85, (name, severity, img["file_name"], iou)
            detections = [{**a, "score": 1.0} for a in gt.loadAnns(gt.getAnnIds()) if not a["iscrowd"]]
            for kind in ("bbox", "segm"):
                evaluation = COCOeval(gt, gt.loadRes(detections), kind)
                evaluation.params.catIds = [1]
                evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()
                assert evaluation.stats[0] == pytest.approx(1.0), (name, severity, kind)
    rows = [json.loads(line) for line in (out / "manifests" / "rotate" / "5.jsonl").read_text().splitlines()]
    assert all(r["warp"]["type"] == "affine" and r["dropped"] == 0 for r in rows)
    assert not (out / "rotate" / "5" / "annotations" / "instances_val.json").samefile(out / "annotations" / "instances_val.json")


def test_coco_geometric_build_is_the_same_whatever_the_workers_and_shards(tmp_path):
    src = coco_with_shapes(tmp_path / "src")
    args = ["coco", "--src", src, "--split", "val", "--corruptions", "rotate,translate", "--severities", "2"]
    build(*args, "--out", tmp_path / "a", "--workers", "1", "--shard-size", "1")
    build(*args, "--out", tmp_path / "b", "--workers", "2", "--shard-size", "5")
    exclude = ("corruptgen.json",)
    a = {k: v for k, v in tree_digest(tmp_path / "a", exclude).items() if "/shard-" not in k}
    b = {k: v for k, v in tree_digest(tmp_path / "b", exclude).items() if "/shard-" not in k}
    assert a == b and "rotate/2/annotations/instances_val.json" in a


def test_a_malformed_polygon_is_one_error_row_and_the_rest_is_built(tmp_path):
    src = coco_with_shapes(tmp_path / "src", bad=True)
    out = tmp_path / "out"
    result = build("coco", "--src", src, "--split", "val", "--out", out, "--corruptions", "rotate,fog",
                   "--severities", "1", expect=1)  # fmt: skip
    assert "instances_val.json: annotation id 3: segmentation[0] has 5 coordinates" in result.output
    assert "Traceback" not in result.output
    rows = [json.loads(line) for line in (out / "manifests" / "rotate" / "1.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["ok", "error"]
    doc = json.loads((out / "rotate" / "1" / "annotations" / "instances_val.json").read_text())
    assert [img["file_name"] for img in doc["images"]] == ["000.png"]
    assert len(list((out / "fog" / "1" / "val").iterdir())) == 2  # fog never reads annotations


def test_elastic_transform_moves_annotations_only_when_asked(tmp_path):
    src = coco_with_shapes(tmp_path / "src")
    args = ["coco", "--src", src, "--split", "val", "--corruptions", "elastic_transform", "--severities", "5"]
    build(*args, "--out", tmp_path / "plain")
    assert not (tmp_path / "plain" / "elastic_transform" / "5" / "annotations").exists()
    build(*args, "--out", tmp_path / "moved", "--warp-annotations")
    moved = json.loads((tmp_path / "moved" / "elastic_transform" / "5" / "annotations" / "instances_val.json").read_text())
    source = json.loads((src / "annotations" / "instances_val.json").read_text())
    assert len(moved["annotations"]) == len(source["annotations"])
    assert moved["annotations"][0]["segmentation"] != source["annotations"][0]["segmentation"]
    # the option is part of the build's identity: a rerun without it is refused
    result = build(*args, "--out", tmp_path / "moved", expect=1)
    assert "warp_annotations" in result.output


def test_cifar_elastic_transform_builds_coco_with_moved_annotations(tmp_path):
    src = coco_with_shapes(tmp_path / "src")
    build("coco", "--src", src, "--split", "val", "--out", tmp_path / "out", "--corruptions", "elastic_transform",
          "--severities", "1", "--profile", "cifar")  # fmt: skip
    assert (tmp_path / "out" / "elastic_transform" / "1" / "annotations" / "instances_val.json").is_file()


def make_voc_with_segmentation(root: Path) -> Path:
    year = root / "VOCdevkit" / "VOC2007"
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main", "SegmentationClass", "SegmentationObject"):
        (year / sub).mkdir(parents=True)
    image = rectangle_image(60, 80, (20, 15, 50, 40))
    Image.fromarray(image).save(year / "JPEGImages" / "000001.jpg", quality=100)
    (year / "Annotations" / "000001.xml").write_text(
        "<annotation><filename>000001.jpg</filename><size><width>80</width><height>60</height><depth>3</depth></size>"
        "<object><name>cat</name><difficult>0</difficult><bndbox><xmin>21</xmin><ymin>16</ymin><xmax>50</xmax>"
        "<ymax>40</ymax></bndbox></object></annotation>")  # fmt: skip
    labels = np.zeros((60, 80), np.uint8)
    labels[15:40, 20:50] = 8
    seg = Image.fromarray(labels, "P")
    seg.putpalette([0, 0, 0] * 8 + [64, 0, 0] + [224, 224, 192] * 247)
    seg.save(year / "SegmentationClass" / "000001.png")
    seg.save(year / "SegmentationObject" / "000001.png")
    (year / "ImageSets" / "Main" / "test.txt").write_text("000001\n")
    return root / "VOCdevkit"


def test_voc_build_moves_boxes_and_segmentation_and_keeps_the_rest_shared(tmp_path):
    src = make_voc_with_segmentation(tmp_path / "voc")
    out = tmp_path / "out"
    build("voc", "--src", src, "--out", out, "--corruptions", "rotate,fog", "--severities", "3")
    year = out / "rotate" / "3" / "VOCdevkit" / "VOC2007"
    pixels = np.asarray(Image.open(year / "JPEGImages" / "000001.jpg"))
    box = ET.parse(year / "Annotations" / "000001.xml").getroot().find("object/bndbox")
    x0, y0, x1, y1 = pixel_box(pixels)
    assert np.allclose([int(box.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax")], [x0 + 1, y0 + 1, x1, y1], atol=2)
    with Image.open(year / "SegmentationClass" / "000001.png") as seg:
        labels = np.asarray(seg)
        assert seg.mode == "P" and {0, 8, 255} == set(np.unique(labels))
    cat = labels == 8
    assert (cat & (pixels[:, :, 0] > 127)).sum() / (cat | (pixels[:, :, 0] > 127)).sum() > 0.85
    shared = out / "fog" / "3" / "VOCdevkit" / "VOC2007" / "Annotations" / "000001.xml"
    assert shared.read_bytes() == (src / "VOC2007" / "Annotations" / "000001.xml").read_bytes()
    assert (year / "ImageSets" / "Main" / "test.txt").read_text() == "000001\n"


def test_cityscapes_build_moves_gt_and_cityscapesscripts_reads_it(tmp_path):
    from cityscapesscripts.helpers.annotation import Annotation

    src = make_cityscapes(tmp_path / "cs")
    out = tmp_path / "out"
    build("cityscapes", "--src", src, "--out", out, "--corruptions", "translate", "--severities", "5")
    gt = out / "translate" / "5" / "gtFine" / "val" / "frankfurt"
    ids = np.asarray(Image.open(gt / "frankfurt_000000_000019_gtFine_instanceIds.png"))
    assert ids.dtype == np.uint16 and set(np.unique(ids)) == {0, 26001}
    labels = np.asarray(Image.open(gt / "frankfurt_000000_000019_gtFine_labelIds.png"))
    assert set(np.unique(labels)) == {0, 7} and (labels == 0).sum() > 0
    annotation = Annotation()
    annotation.fromJsonFile(str(gt / "frankfurt_000000_000019_gtFine_polygons.json"))
    assert len(annotation.objects) == 1 and annotation.objects[0].label == "road"
    rows = [json.loads(line) for line in (out / "manifests" / "translate" / "5.jsonl").read_text().splitlines()]
    assert all("dropped" in r and r["warp"]["type"] == "affine" for r in rows)


def oracle_results(out: Path, results: Path, cells, annotation: str) -> None:
    """Results that repeat a ground truth's boxes: the clean cell from the source's file, a moved
    cell from its tree's own."""
    results.mkdir()
    for cell in [None, *cells]:
        path = out / "annotations" / annotation if cell is None else out / cell[0] / str(cell[1]) / "annotations" / annotation
        if cell is not None and not path.is_file():
            path = out / "annotations" / annotation
        doc = json.loads(path.read_text())
        dets = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
                for a in doc["annotations"] if not a.get("iscrowd")]  # fmt: skip
        target = results / ("clean.json" if cell is None else f"{cell[0]}/{cell[1]}.json")
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(dets))


def test_evaluate_scores_moved_cells_against_their_own_annotations(tmp_path):
    from corruptgen.evaluate.scoring import evaluate
    from corruptgen.evaluate.tree import Tree

    src = coco_with_shapes(tmp_path / "src")
    out = tmp_path / "out"
    build("coco", "--src", src, "--split", "val", "--out", out, "--corruptions", "rotate,fog", "--severities", "4")
    oracle_results(out, tmp_path / "oracle", [("rotate", 4), ("fog", 4)], "instances_val.json")
    doc = evaluate(Tree.open(out), tmp_path / "oracle")
    assert doc["cells"] == {"rotate": {"4": 100.0}, "fog": {"4": 100.0}} and doc["P"] == 100.0
    # the source's boxes are wrong for rotated images: what scoring against them would give
    stale = tmp_path / "stale"
    oracle_results(out, stale, [("fog", 4)], "instances_val.json")
    (stale / "rotate").mkdir()
    (stale / "rotate" / "4.json").write_text((stale / "fog" / "4.json").read_text())
    assert evaluate(Tree.open(out), stale)["cells"]["rotate"]["4"] < 50


def test_evaluate_scores_moved_voc_cells_against_their_own_xml(tmp_path):
    from corruptgen.evaluate.scoring import evaluate
    from corruptgen.evaluate.tree import Tree

    src = make_voc_with_segmentation(tmp_path / "voc")
    out = tmp_path / "out"
    build("voc", "--src", src, "--out", out, "--corruptions", "shear", "--severities", "5")
    results = tmp_path / "results"
    results.mkdir()
    for cell, xml in ((None, src / "VOC2007" / "Annotations" / "000001.xml"),
                      (("shear", 5), out / "shear" / "5" / "VOCdevkit" / "VOC2007" / "Annotations" / "000001.xml")):  # fmt: skip
        box = ET.parse(xml).getroot().find("object/bndbox")
        x0, y0, x1, y1 = (float(box.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax"))
        det = [{"image_id": "VOC2007/000001", "category_id": 8, "bbox": [x0, y0, x1 - x0, y1 - y0], "score": 1.0}]
        target = results / ("clean.json" if cell is None else "shear/5.json")
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(det))
    doc = evaluate(Tree.open(out), results)
    assert doc["P"] == 100.0 and doc["cells"] == {"shear": {"5": 100.0}}
