"""group DRO's Waterbirds composite, transcribed: ``generate_waterbirds.py``'s loop body and ``dataset_utils.py``
(kohpangwei/group_DRO), with ``Image.LANCZOS`` for the ``Image.ANTIALIAS`` Pillow 10 removed. The yardstick of
``tests/test_waterbirds.py`` and ``scripts/bench_waterbirds.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def reference_composite(cub: Path, places: Path, row: dict) -> np.ndarray:
    """generate_waterbirds.py's loop body and dataset_utils.py, transcribed (Image.ANTIALIAS is Image.LANCZOS)."""

    def crop_and_resize(source_img, target_img):
        source_width, source_height = source_img.size
        target_width, target_height = target_img.size
        if (source_width < target_width) or (source_height < target_height):
            width_resize = (target_width, int((target_width / source_width) * source_height))
            if (width_resize[0] >= target_width) and (width_resize[1] >= target_height):
                source_resized = source_img.resize(width_resize, Image.LANCZOS)
            else:
                height_resize = (int((target_height / source_height) * source_width), target_height)
                source_resized = source_img.resize(height_resize, Image.LANCZOS)
            return crop_and_resize(source_resized, target_img)
        source_aspect, target_aspect = source_width / source_height, target_width / target_height
        if source_aspect > target_aspect:
            new_source_width = int(target_aspect * source_height)
            offset = (source_width - new_source_width) // 2
            resize = (offset, 0, source_width - offset, source_height)
        else:
            new_source_height = int(source_width / target_aspect)
            offset = (source_height - new_source_height) // 2
            resize = (0, offset, source_width, source_height - offset)
        return source_img.crop(resize).resize((target_width, target_height), Image.LANCZOS)

    img_np = np.asarray(Image.open(cub / "images" / row["img_filename"]).convert("RGB"))
    seg_np = np.asarray(Image.open(cub.parent / "segmentations" / row["img_filename"].replace(".jpg", ".png")).convert("RGB")) / 255
    place = Image.open(places / "data_large" / row["place_filename"][1:]).convert("RGB")
    img_black = Image.fromarray(np.around(img_np * seg_np).astype(np.uint8))
    img_resized_np = np.asarray(crop_and_resize(place, img_black))
    img_masked_np = np.around(img_resized_np * (1 - seg_np)).astype(np.uint8)
    return np.asarray(img_black) + img_masked_np
