"""Draw a COCO-C build's moved annotations on its corrupted images: docs/geometry.png.

Builds the bundled COCO sample with the four geometric corruptions (into a temporary
folder), then draws every polygon and box of each tree's own annotation file over its
images, one row per corruption, as a reader checks that annotations sit on the objects.

    python scripts/geometry_overlay.py [--severity 3] [--out docs/geometry.png]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

CORRUPTIONS = ("rotate", "shear", "scale", "translate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--severity", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/geometry.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coco-c"
        subprocess.run([sys.executable, "-m", "corruptgen", "build", "coco", "--out", str(out), "--quiet",
                        "--corruptions", ",".join(CORRUPTIONS), "--severities", str(args.severity)], check=True)  # fmt: skip
        names = [img["file_name"] for img in json.loads((out / "annotations" / "instances_sample.json").read_text())["images"]]
        fig, axes = plt.subplots(len(CORRUPTIONS) + 1, len(names), figsize=(3.2 * len(names), 2.6 * (len(CORRUPTIONS) + 1)))
        rows = [("clean", out / "annotations" / "instances_sample.json", None)]
        rows += [(c, out / c / str(args.severity) / "annotations" / "instances_sample.json", out / c / str(args.severity))
                 for c in CORRUPTIONS]  # fmt: skip
        for r, (label, ann_path, tree) in enumerate(rows):
            doc = json.loads(ann_path.read_text())
            for c, img in enumerate(sorted(doc["images"], key=lambda i: i["file_name"])):
                ax = axes[r, c]
                if tree is None:
                    from skimage import data

                    pixels = np.asarray(Image.open(Path(data.data_dir) / img["file_name"]).convert("RGB"))
                else:
                    pixels = np.asarray(Image.open(tree / "sample" / img["file_name"]).convert("RGB"))
                ax.imshow(pixels)
                for ann in (a for a in doc["annotations"] if a["image_id"] == img["id"]):
                    for poly in ann["segmentation"]:
                        xy = np.asarray(poly).reshape(-1, 2)
                        ax.fill(xy[:, 0], xy[:, 1], facecolor=(1, 0.2, 0.2, 0.25), edgecolor="red", linewidth=1)
                    x, y, w, h = ann["bbox"]
                    ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, edgecolor="yellow", linewidth=1.2))
                ax.set_axis_off()
                if c == 0:
                    ax.text(-0.04, 0.5, label if tree is None else f"{label} {args.severity}", rotation=90,
                            transform=ax.transAxes, ha="right", va="center", fontsize=11)  # fmt: skip
        fig.suptitle("COCO sample under geometric corruptions: each tree's own annotations (polygons red, boxes yellow)")
        fig.tight_layout()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
