"""Digital family: contrast, elastic_transform, pixelate, jpeg_compression, saturate (and MNIST-C's identity)."""

from __future__ import annotations

import cv2
import numpy as np

from corruptgen.geometry import AffineWarp, ChainWarp, FieldWarp
from corruptgen.kernels import codec, filters, hsv, tone
from corruptgen.kernels import warp as warp_kernels
from corruptgen.kernels._scratch import scratch
from corruptgen.kernels.counter import draw_key, fill_unit_floats

from .base import Corruption, Params


class Contrast(Corruption):
    """Scale each channel's deviation from its mean by ``factor``."""

    name = "contrast"
    family = "digital"
    param_names = ("factor",)
    random = False
    dtype = "uint8"
    tables = {
        "imagenet": (0.4, 0.3, 0.2, 0.1, 0.05),
        "cifar": (0.75, 0.5, 0.4, 0.3, 0.15),
        "tinyimagenet": (0.4, 0.3, 0.2, 0.1, 0.05),
    }

    def apply(self, image, p: Params):
        return tone.contrast(image, p.factor)


class ElasticTransform(Corruption):
    """A smooth random displacement field, optionally after a random affine.

    Parameters are fractions of the image's side (rows scale with its height, columns with
    its width): ``alpha`` the displacement amplitude, ``sigma`` the field's smoothing, and
    ``affine`` the corner jitter of Hendrycks' random affine.

    - ``imagenet`` is imagecorruptions 1.1.2's version (alpha = 250 x c x 0.005 H, sigma =
      0.01 of each side, truncate 3, no affine): at most a few pixels, so annotations stay
      valid, which is why detection benchmarks use it.
    - ``cifar`` / ``tinyimagenet`` are Hendrycks' 32/64 px tables with the affine, which moves
      content: geometric. The reference builds the affine's anchor points in (row, col) order
      and hands them to OpenCV as (x, y); we use (x, y), identical on square images.
    """

    name = "elastic_transform"
    family = "digital"
    param_names = ("alpha", "sigma", "affine")
    tables = {
        "imagenet": tuple((1.25 * c, 0.01, 0.0) for c in (0.05, 0.065, 0.085, 0.1, 0.12)),
        "cifar": ((0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03)),
        "tinyimagenet": ((0, 0, 0.08), (0.05, 0.3, 0.06), (0.1, 0.08, 0.06), (0.1, 0.03, 0.03), (0.16, 0.03, 0.02)),
    }

    def is_geometric(self, profile="imagenet"):
        return any(row[2] > 0 for row in self.tables.get(profile, ()))

    def sample(self, rng, shape, p):
        draws = {"key": draw_key(rng)}  # the field's uniforms: a counter stream, drawn where they are blurred
        if p.affine > 0:
            draws["jitter"] = rng.uniform(-1, 1, size=(3, 2))
        return draws

    can_warp = True

    @staticmethod
    def _affine(shape, p: Params, jitter) -> np.ndarray:
        height, width = shape[:2]
        cx, cy = width // 2, height // 2
        half = min(height, width) // 3
        src = np.float32([[cx + half, cy + half], [cx + half, cy - half], [cx - half, cy - half]])
        dst = src + (jitter * p.affine * min(height, width)).astype(np.float32)
        return cv2.getAffineTransform(src, dst)

    @staticmethod
    def _fields(shape, p: Params, key, out=None) -> tuple[np.ndarray, np.ndarray]:
        """dx and dy (views of ``out``, an H x W x 2 float32 array, or of a new one)."""
        height, width = shape[:2]
        uniforms = fill_unit_floats(key, scratch("elastic.uniforms", (height, width, 2)))  # U[0, 1) for dx and dy
        out = np.empty((height, width, 2), np.float32) if out is None else out
        filters.gaussian_filter(uniforms, (p.sigma * height, p.sigma * width), truncate=3, mode="reflect", out=out)
        # blur(2u - 1) = 2 blur(u) - 1 (the reference's U(-1, 1)): the kernel sums to 1 and the reflected border keeps constants
        amplitude = np.float32(p.alpha * height)
        out *= 2 * amplitude
        out -= amplitude
        return out[:, :, 0], out[:, :, 1]

    def apply(self, image, p: Params, *, key, jitter=None):
        if jitter is not None:
            image = warp_kernels.affine(image, self._affine(image.shape, p, jitter))
        fields = self._fields(image.shape, p, key, out=scratch("elastic.fields", (image.shape[0], image.shape[1], 2)))
        return warp_kernels.displace(image, *fields)

    def warp(self, shape, p: Params, *, key, jitter=None):
        """The displacement field (after the affine under cifar / tinyimagenet). Annotations sampled
        from reflected border content get no label: the image's border reflection is not followed."""
        field = FieldWarp(*self._fields(shape, p, key))
        if jitter is None:
            return field
        forward = np.vstack([self._affine(shape, p, jitter), [0, 0, 1]])
        return ChainWarp((AffineWarp(np.linalg.inv(forward)), field))


class Pixelate(Corruption):
    """Box-downscale by ``factor`` and upscale with nearest neighbour (Pillow), as imagecorruptions
    1.1.2 does (Hendrycks' ImageNet-C upsamples with a box filter instead)."""

    name = "pixelate"
    family = "digital"
    param_names = ("factor",)
    random = False
    dtype = "uint8"
    tables = {
        "imagenet": (0.6, 0.5, 0.4, 0.3, 0.25),
        "cifar": (0.95, 0.9, 0.85, 0.75, 0.65),
        "tinyimagenet": (0.9, 0.8, 0.7, 0.6, 0.5),
    }

    def apply(self, image, p: Params):
        return codec.pixelate(image, p.factor)


class JpegCompression(Corruption):
    """Pillow JPEG at ``quality``; greyscale images are encoded as greyscale JPEGs."""

    name = "jpeg_compression"
    family = "digital"
    param_names = ("quality",)
    random = False
    dtype = "uint8"
    tables = {
        "imagenet": (25, 18, 15, 10, 7),
        "cifar": (80, 65, 58, 50, 40),
        "tinyimagenet": (65, 58, 50, 40, 25),
    }

    def apply(self, image, p: Params):
        return codec.jpeg_roundtrip(image, p.quality)


class Saturate(Corruption):
    """Set HSV saturation to ``s * scale + offset`` (closed form). Grey pixels have hue 0 (red),
    so a positive offset tints them red, as in the reference."""

    name = "saturate"
    family = "digital"
    param_names = ("scale", "offset")
    random = False
    gray_native = False
    dtype = "uint8"
    tables = {
        "imagenet": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)),
        "cifar": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),
        "tinyimagenet": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (30, 0.2)),
    }

    def apply(self, image, p: Params):
        return hsv.saturate(image, p.scale, p.offset)


class Identity(Corruption):
    """MNIST-C's clean copy (its ``identity`` folder): only in the ``mnist-c`` profile."""

    name = "identity"
    family = "digital"
    param_names = ()
    random = False
    dtype = "uint8"
    tables = {"mnist-c": ((),)}

    def apply(self, image, p: Params):
        return image.copy()
