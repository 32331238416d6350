"""Measure corruptgen against imagecorruptions 1.1.2 and write docs/fidelity.md.

    python scripts/fidelity_report.py [--seeds 5]

Deterministic corruptions: mean and 99th percentile of |ours - reference| in gray levels.
Random ones: mean PSNR and SSIM against the clean image, ours minus the reference's, over
three photographs at 224x224 and one at 150x263, several seeds each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchdoc import quality  # noqa: E402
from reference import reference_corrupt  # noqa: E402

import corruptgen  # noqa: E402
from corruptgen.corruptions import IMAGECORRUPTIONS, REGISTRY  # noqa: E402


def photos() -> list[np.ndarray]:
    out = [cv2.resize(getattr(data, n)(), (224, 224), interpolation=cv2.INTER_AREA) for n in ("astronaut", "chelsea", "coffee")]
    return out + [cv2.resize(data.rocket(), (263, 150), interpolation=cv2.INTER_AREA)]



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    images = photos()
    det_rows, rand_rows = [], []
    worst_det, worst_rand = (0.0, 0.0, ""), (0.0, 0.0, "")
    for name in IMAGECORRUPTIONS:  # the reference's 19; MNIST-C's own are scripts/fidelity_mnist_c.py's section
        spec = REGISTRY[name]
        cells = []
        for s in range(1, 6):
            if not spec.random:
                d = np.concatenate([np.abs(corruptgen.corrupt(im, name, s).astype(int) - reference_corrupt(im, name, s, 0)).ravel()
                                    for im in images])  # fmt: skip
                mean, p99 = d.mean(), np.percentile(d, 99)
                cells.append(f"{mean:.2f} / {p99:.0f}")
                worst_det = max(worst_det, (mean, p99, f"{name} s{s}"))
            else:
                ours, ref = [], []
                for im in images:
                    for seed in range(args.seeds):
                        ours.append(quality(im, corruptgen.corrupt(im, name, s, seed=seed)))
                        ref.append(quality(im, reference_corrupt(im, name, s, seed=seed)))
                ours, ref = np.array(ours), np.array(ref)
                dp, ds = ours[:, 0].mean() - ref[:, 0].mean(), ours[:, 1].mean() - ref[:, 1].mean()
                se = np.sqrt(ours[:, 0].var(ddof=1) / len(ours) + ref[:, 0].var(ddof=1) / len(ref))
                cells.append(f"{dp:+.2f} dB (se {se:.2f}) / {ds:+.3f}")
                worst_rand = max(worst_rand, (abs(dp), abs(ds), f"{name} s{s}"), key=lambda t: t[0])
        (rand_rows if spec.random else det_rows).append(f"| {name} | " + " | ".join(cells) + " |")
        print(name, cells, flush=True)
    head = "| corruption | s1 | s2 | s3 | s4 | s5 |\n|---|---|---|---|---|---|"
    text = f"""# Fidelity against imagecorruptions 1.1.2

Written by `scripts/fidelity_report.py` (the same comparison `tests/test_fidelity.py` asserts).
Images: scikit-image's astronaut, chelsea and coffee at 224x224 and rocket at 150x263
(non-square); {args.seeds} seeds each for the random corruptions. The reference runs through the
test-side shim in `tests/reference.py` (NumPy 2 / scikit-image >= 0.20 fixes only).

## Deterministic corruptions: mean / 99th percentile of |ours - reference| (gray levels)

Required: mean <= 0.1, p99 <= 1. Worst cell: {worst_det[2]} ({worst_det[0]:.2f} / {worst_det[1]:.0f}).

{head}
{chr(10).join(det_rows)}

## Random corruptions: mean PSNR and SSIM vs. the clean image, ours minus reference

Required: within 0.5 dB and 0.02, or 3 standard errors where seeds vary more. Largest PSNR
gap: {worst_rand[2]} ({worst_rand[0]:.2f} dB).

{head}
{chr(10).join(rand_rows)}
"""
    doc = ROOT / "docs" / "fidelity.md"
    kept = doc.read_text() if doc.exists() else ""
    marker = "<!-- mnist-c:start -->"  # the other script's section stays
    doc.write_text(text + ("\n" + kept[kept.index(marker):] if marker in kept else ""))
    print(f"worst deterministic {worst_det}; worst random {worst_rand}")


if __name__ == "__main__":
    main()
