"""Compose a small COCO-format face-detection set from real image content that ships offline.

Backgrounds are crops of real photographs bundled with scikit-image and scikit-learn (none of
which shows a face); onto each, 3 real face photographs from scikit-image's LFW subset
(``skimage.data.lfw_subset()``: 100 greyscale 25 x 25 face crops from Labeled Faces in the
Wild) are pasted, upscaled (bicubic) to 40-72 px at non-overlapping places. The boxes are exact
(the pasted squares); the category is ``face`` (id 1). Deterministic: the same --seed gives the
same bytes.

    python examples/faces/make_coco.py --out faces   # faces/val/*.png + faces/annotations/instances_val.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from skimage import data

BACKGROUNDS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
               "coins", "moon", "grass", "gravel", "brick", "retina")  # fmt: skip


def backgrounds() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    photos = [getattr(data, name)() for name in BACKGROUNDS] + [data.stereo_motorcycle()[0]]
    photos += list(load_sample_images().images)  # china.jpg, flower.jpg
    return [p if p.ndim == 3 else np.repeat(p[:, :, None], 3, axis=2) for p in photos]


def compose(n_images: int, faces_per_image: int, size: tuple[int, int], seed: int):
    rng = np.random.default_rng(seed)
    faces = (data.lfw_subset()[:100] * 255).round().astype(np.uint8)
    photos = backgrounds()
    height, width = size
    for index in range(n_images):
        photo = photos[index % len(photos)]
        scale = max(height / photo.shape[0], width / photo.shape[1])
        if scale > 1:
            photo = cv2.resize(photo, (int(np.ceil(photo.shape[1] * scale)), int(np.ceil(photo.shape[0] * scale))))
        top = int(rng.integers(0, photo.shape[0] - height + 1))
        left = int(rng.integers(0, photo.shape[1] - width + 1))
        image = np.ascontiguousarray(photo[top : top + height, left : left + width, :3])
        boxes = []
        while len(boxes) < faces_per_image:
            side = int(rng.integers(40, 73))
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            if any(x < bx + bs + 8 and bx < x + side + 8 and y < by + bs + 8 and by < y + side + 8 for bx, by, bs in boxes):
                continue  # keep faces apart
            face = cv2.resize(faces[int(rng.integers(0, len(faces)))], (side, side), interpolation=cv2.INTER_CUBIC)
            image[y : y + side, x : x + side] = face[:, :, None]
            boxes.append((x, y, side))
        yield index, image, boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--faces-per-image", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (args.out / "val").mkdir(parents=True, exist_ok=True)
    (args.out / "annotations").mkdir(exist_ok=True)
    images, annotations = [], []
    for index, image, boxes in compose(args.images, args.faces_per_image, (240, 320), args.seed):
        name = f"{index + 1:06d}.png"
        cv2.imwrite(str(args.out / "val" / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        images.append({"id": index + 1, "file_name": name, "height": image.shape[0], "width": image.shape[1]})
        for x, y, side in boxes:
            polygon = [x, y, x + side, y, x + side, y + side, x, y + side]
            annotations.append({"id": len(annotations) + 1, "image_id": index + 1, "category_id": 1, "iscrowd": 0,
                                "bbox": [x, y, side, side], "area": side * side, "segmentation": [polygon]})  # fmt: skip
    doc = {"info": {"description": "LFW faces on real photographs (corruptgen example)"}, "images": images,
           "annotations": annotations, "categories": [{"id": 1, "name": "face", "supercategory": "person"}]}  # fmt: skip
    (args.out / "annotations" / "instances_val.json").write_text(json.dumps(doc, indent=1))
    print(f"{len(images)} images, {len(annotations)} faces in {args.out}")


if __name__ == "__main__":
    main()
