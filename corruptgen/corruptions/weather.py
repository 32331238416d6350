"""Weather family: snow, frost, fog, brightness, spatter (ImageNet-C's grouping)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from corruptgen.assets import frost_texture_bgr
from corruptgen.kernels import counter, hsv, plasma, tone, weather, zoom
from corruptgen.kernels._scratch import scratch
from corruptgen.kernels.counter import draw_key

from .base import Corruption, Params

_SNOW_SHAPE = ((0.1, 0.3, 3, 0.5, 10, 4), (0.2, 0.3, 2, 0.5, 12, 4), (0.55, 0.3, 4, 0.9, 12, 8),
               (0.55, 0.3, 4.5, 0.85, 12, 8), (0.55, 0.3, 2.5, 0.85, 12, 12))  # fmt: skip
_SNOW_SMALL = ((0.1, 0.2, 1, 0.6, 8, 3), (0.1, 0.2, 1, 0.5, 10, 4), (0.15, 0.3, 1.75, 0.55, 10, 4),
               (0.25, 0.3, 2.25, 0.6, 12, 6), (0.3, 0.3, 1.25, 0.65, 14, 12))  # fmt: skip


class Snow(Corruption):
    """Snow flakes: zoomed thresholded noise streaked by motion blur at U(-135, -45) degrees,
    added twice (the second copy rotated 180 degrees) over a whitened image.

    ``trim`` is where the zoomed layer is cut to the image: ``none`` under ``imagenet``
    (imagecorruptions 1.1.2 blurs the untrimmed layer, then keeps its top-left), ``centre`` under
    ``cifar`` and ``tinyimagenet`` (Hendrycks' scripts trim centrally before the blur). They
    differ only where the zoomed layer is 2+ pixels larger than the image (cifar severity 4 at
    32 px: 34 x 34). Hendrycks' streaks come from ImageMagick's motion blur, ours from the
    reference's NumPy one under every profile.
    """

    name = "snow"
    family = "weather"
    param_names = ("loc", "scale", "zoom", "threshold", "blur_radius", "blur_sigma", "blend", "trim")
    gray_native = True  # the whitening uses luma, which is the grey level itself
    dtype = "uint8"
    tables = {
        "imagenet": tuple(s + (b, "none") for s, b in zip(_SNOW_SHAPE, (0.8, 0.7, 0.7, 0.65, 0.55))),
        "cifar": tuple(s + (b, "centre") for s, b in zip(_SNOW_SMALL, (0.95, 0.9, 0.9, 0.85, 0.8))),
        "tinyimagenet": tuple(s + (b, "centre") for s, b in zip(_SNOW_SMALL, (0.8, 0.8, 0.7, 0.65, 0.6))),
    }

    def sample(self, rng, shape, p):
        # only the centre that the zoom reads (the reference draws the whole image and crops it)
        crop = (zoom.centre_crop_size(shape[0], p.zoom), zoom.centre_crop_size(shape[1], p.zoom))
        noise = rng.standard_normal(crop, dtype=np.float32) * np.float32(p.scale) + np.float32(p.loc)
        return {"noise": noise, "angle": float(rng.uniform(-135, -45))}

    def apply(self, image, p: Params, *, noise, angle):
        return weather.snow(
            image, noise, zoom=p.zoom, threshold=p.threshold, blur_radius=p.blur_radius,
            blur_sigma=p.blur_sigma, angle=angle, blend=p.blend, trim=p.trim,
        )  # fmt: skip


@lru_cache(maxsize=16)
def _frost_texture(index: int, scale: float) -> np.ndarray:
    texture = frost_texture_bgr(index)
    return texture if scale == 1 else cv2.resize(texture, (0, 0), fx=scale, fy=scale)


@lru_cache(maxsize=16)
def _frost_cover(index: int, scale: float, height: int, width: int) -> np.ndarray:
    """The rescaled texture for an image size; cached, as a dataset repeats its sizes."""
    texture = weather.frost_texture(_frost_texture(index, scale), height, width)
    texture.setflags(write=False)
    return texture


class Frost(Corruption):
    """Blend with a random crop of one of imagecorruptions' frost photographs.

    Kept from both references: the texture is drawn from the first five photographs only
    (``randint(5)``; frost6 is never used). ``crop`` says where the patch comes from:

    - ``cover`` (``imagenet``, imagecorruptions 1.1.2): the photograph is rescaled bicubically to
      1.1x what covers the image, and the patch cropped from it;
    - ``direct`` (``cifar``, ``tinyimagenet``, Hendrycks' ``make_cifar_c.py`` /
      ``make_tinyimagenet_c.py``): the photograph is shrunk by ``texture_scale`` (0.2 / 0.3,
      bilinear) and the patch cropped straight from it, at an offset drawn from
      ``[0, texture - image)`` per axis. An image larger than the shrunk photograph (which the
      scripts cannot handle) falls back to the cover rescale of the shrunk photograph.
    """

    name = "frost"
    family = "weather"
    param_names = ("image_weight", "frost_weight", "texture_scale", "crop")
    gray_native = False
    dtype = "uint8"
    tables = {
        "imagenet": ((1, 0.4, 1, "cover"), (0.8, 0.6, 1, "cover"), (0.7, 0.7, 1, "cover"), (0.65, 0.7, 1, "cover"),
                     (0.6, 0.75, 1, "cover")),
        "cifar": ((1, 0.2, 0.2, "direct"), (1, 0.3, 0.2, "direct"), (0.9, 0.4, 0.2, "direct"), (0.85, 0.4, 0.2, "direct"),
                  (0.75, 0.45, 0.2, "direct")),
        "tinyimagenet": ((1, 0.3, 0.3, "direct"), (0.9, 0.4, 0.3, "direct"), (0.8, 0.45, 0.3, "direct"),
                         (0.75, 0.5, 0.3, "direct"), (0.7, 0.55, 0.3, "direct")),
    }  # fmt: skip

    @staticmethod
    def _direct(texture: np.ndarray, height: int, width: int, p: Params) -> bool:
        return p.crop == "direct" and texture.shape[0] >= height and texture.shape[1] >= width

    def sample(self, rng, shape, p):
        index = int(rng.integers(5))
        texture = _frost_texture(index, p.texture_scale)
        if self._direct(texture, shape[0], shape[1], p):
            th, tw = texture.shape[:2]
        else:
            th, tw = weather.frost_cover_size(texture.shape[:2], shape[0], shape[1])
        top = int(rng.integers(0, max(th - shape[0], 1)))
        left = int(rng.integers(0, max(tw - shape[1], 1)))
        return {"texture": index, "top": top, "left": left}

    def apply(self, image, p: Params, *, texture, top, left):
        height, width = image.shape[:2]
        source = _frost_texture(texture, p.texture_scale)
        if not self._direct(source, height, width, p):
            source = _frost_cover(texture, p.texture_scale, height, width)
        crop = source[top : top + height, left : left + width]
        return weather.frost(image, crop, p.image_weight, p.frost_weight)


class Fog(Corruption):
    """A diamond-square plasma fractal added and rescaled; map side = next power of two of the
    image's longer side, as imagecorruptions does. ``mnist-c`` draws a 256 px map and crops the
    image's corner of it, as MNIST-C does (smoother fog than a 32 px map on a digit)."""

    name = "fog"
    family = "weather"
    param_names = ("amount", "wibbledecay", "mapsize")
    dtype = "uint8"
    tables = {
        "imagenet": ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),
        "cifar": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),
        "tinyimagenet": ((0.4, 3), (0.7, 3), (1, 2.5), (1.5, 2), (2, 1.75)),
        "mnist-c": ((3.0, 1.4, 256),),
    }
    defaults = {"mapsize": None}

    def _mapsize(self, shape, p) -> int:
        return p.mapsize or plasma.next_power_of_2(max(shape[0], shape[1]))

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        mapsize = self._mapsize(image.shape, p)
        heights = scratch("fog.heights", (mapsize, mapsize), np.float64)
        low, peak = plasma.plasma_heights(mapsize, p.wibbledecay, key, heights)
        return plasma.fog(image, heights, p.amount, low=low, peak=peak, rounded=p.rounded)


class Brightness(Corruption):
    """Add to the HSV value channel (closed form, no HSV image built).

    ``mnist-c``: MNIST-C promotes the digit to RGB and converts back with ``rgb2gray``, whose float
    sum puts some exact half levels on the other side of its rounding; the profile follows it."""

    name = "brightness"
    family = "weather"
    param_names = ("delta",)
    random = False
    dtype = "uint8"
    tables = {
        "imagenet": (0.1, 0.2, 0.3, 0.4, 0.5),
        "cifar": (0.05, 0.1, 0.15, 0.2, 0.3),
        "tinyimagenet": (0.1, 0.2, 0.3, 0.4, 0.5),
        "mnist-c": (0.5,),
    }

    def apply(self, image, p: Params):
        if image.shape[2] == 1:
            return tone.add_value(image, p.delta, rounded=p.rounded, via_luma=p.rounded)
        return hsv.brightness(image, p.delta, rounded=p.rounded)


class Spatter(Corruption):
    """Water drops (severities 1-3) or mud (4-5): the reference's recipe on a blurred noise layer.
    For mud, ``intensity`` is the sigma of the mask's blur, as in the reference.

    ``mnist-c`` is the imagenet table's severity 4 (mud) with MNIST-C's grey mud (63 on its one
    channel) instead of imagecorruptions' brown (63, 42, 20)."""

    name = "spatter"
    family = "weather"
    param_names = ("loc", "scale", "sigma", "threshold", "intensity", "mud", "mud_rgb")
    gray_native = False
    tables = {
        "imagenet": ((0.65, 0.3, 4, 0.69, 0.6, 0), (0.65, 0.3, 3, 0.68, 0.6, 0), (0.65, 0.3, 2, 0.68, 0.5, 0),
                     (0.65, 0.3, 1, 0.65, 1.5, 1), (0.67, 0.4, 1, 0.65, 1.5, 1)),
        "cifar": ((0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0), (0.65, 0.3, 1, 0.69, 0.5, 0),
                  (0.65, 0.1, 0.7, 0.69, 0.6, 1), (0.65, 0.1, 0.5, 0.68, 0.6, 1)),
        "tinyimagenet": ((0.62, 0.1, 0.7, 0.7, 0.6, 0), (0.65, 0.1, 0.8, 0.7, 0.6, 0), (0.65, 0.3, 1, 0.69, 0.6, 0),
                         (0.65, 0.1, 0.7, 0.68, 0.6, 1), (0.65, 0.1, 0.5, 0.67, 0.6, 1)),
        "mnist-c": ((0.65, 0.3, 1, 0.65, 1.5, 1, (63, 63, 63)),),
    }  # fmt: skip
    defaults = {"mud_rgb": (63, 42, 20)}
    dtype = "uint8"

    def sample(self, rng, shape, p):
        return {"key": draw_key(rng)}

    def apply(self, image, p: Params, *, key):
        noise = counter.normals(key, image.shape[:2])  # N(loc, scale), by the counter stream's ziggurat
        noise *= np.float32(p.scale)
        noise += np.float32(p.loc)
        return weather.spatter(
            image, noise, sigma=p.sigma, threshold=p.threshold, intensity=p.intensity, mud=bool(p.mud),
            mud_rgb=p.mud_rgb, rounded=p.rounded,
        )
