"""The catalogue inside albumentations 2.x pipelines.

>>> import albumentations as A                                   # doctest: +SKIP
>>> from corruptgen.augment.albumentations import Corruption     # doctest: +SKIP
>>> A.Compose([A.HorizontalFlip(), Corruption("weather", severity=(1, 3), p=0.5)], seed=137)  # doctest: +SKIP

``Corruption`` is an image-only transform that draws its corruption, severity and seed from the
transform's own generator (``self.random_generator``), so ``A.Compose(seed=...)`` reproduces its
outputs exactly as it does albumentations' own transforms. Importing this module needs
albumentations (``pip install ".[albumentations]"`` from a clone).
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import numpy as np

from . import images as image_types
from .sampling import CorruptionSampler


class Corruption(A.ImageOnlyTransform):
    """One corruption from ``corruptions`` at a severity from ``severity``, with probability ``p``.

    ``corruptions``, ``severity``, ``weights`` and ``profile`` mean what they mean for
    :class:`corruptgen.augment.RandomCorruption`. Images may be uint8 or float32 in [0, 1], with
    1, 3 or 4 channels. Corruptions that move content (shear, scale, rotate, translate, and
    elastic_transform under the cifar and tinyimagenet profiles) are refused: an image-only
    transform would leave boxes, masks and keypoints behind.
    """

    def __init__(self, corruptions="benchmark", severity=(1, 5), weights=None, profile: str = "imagenet", p: float = 0.5):
        super().__init__(p=p)
        self.sampler = CorruptionSampler.create(corruptions, severity, weights, 1.0, profile)
        moving = self.sampler.geometric()
        if moving:
            raise ValueError(f"{', '.join(moving)} moves image content under profile {profile!r}; an image-only transform "
                             "would not move the targets with it. Leave it out (corruptgen build moves annotations).")  # fmt: skip
        self.corruptions, self.severity, self.weights, self.profile = corruptions, severity, weights, profile

    def get_params(self) -> dict[str, Any]:
        return self.sampler.draw(self.random_generator)

    def apply(self, img: np.ndarray, corruption: str, severity: int, seed: int | None, **params) -> np.ndarray:
        squeeze = img.ndim == 3 and img.shape[2] == 1
        out = image_types.apply(img, {"corruption": corruption, "severity": severity, "seed": seed}, self.profile)
        return out[:, :, None] if squeeze and out.ndim == 2 else out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("corruptions", "severity", "weights", "profile")
