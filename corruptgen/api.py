"""``corrupt()``: validate an image, run one catalogue entry on it, give back the same kind."""

from __future__ import annotations

import numbers
from typing import overload

import cv2
import numpy as np
from PIL import Image

from .corruptions import SEVERITIES, Corruption, Params, get_corruption
from .kernels._scratch import scratch
from .kernels.quantise import to_uint8, to_unit
from .rng import Seed, as_generator, check_seed
from .selection import check_profile

PIL_MODES = ("L", "RGB", "RGBA")


def check_severity(severity) -> int:
    if isinstance(severity, numbers.Integral) and not isinstance(severity, bool) and severity in SEVERITIES:
        return int(severity)
    raise ValueError(f"severity must be an integer from 1 to 5; got {severity!r}.")


def check_array(image: np.ndarray) -> None:
    if image.dtype != np.uint8:
        raise ValueError(f"image must have dtype uint8; got {image.dtype}.")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must have shape HxW, HxWx1, HxWx3 or HxWx4; got {image.shape}.")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image must be at least 1x1 pixels; got {image.shape}.")


def corrupt_rgb_or_gray(
    pixels: np.ndarray, spec: Corruption, severity: int, rng: np.random.Generator, profile: str, *,
    with_warp: bool = False, params: Params | None = None,
):
    """Run ``spec`` on a uint8 ``H x W x 1`` or ``H x W x 3`` array; the same shape comes back.

    The building block under :func:`corrupt` for callers that validated their input already.
    ``with_warp=True`` returns ``(pixels, warp)``: the :class:`corruptgen.geometry.Warp` the
    corruption moved pixels by (None when it moves none), from the same draws. ``params`` replaces
    the severity's (a C-bar magnitude of :func:`magnitude_params`).
    """
    gray = pixels.shape[2] == 1
    work = pixels if (not gray or spec.gray_native) else np.repeat(pixels, 3, axis=2)
    p = params if params is not None else spec.params(severity, profile)
    draws = spec.sample(rng, work.shape, p)
    if spec.dtype == "uint8":
        image = work
    else:  # into this thread's work array: apply reads it, and the float result is converted below
        image = to_unit(work, scratch("corrupt.input", work.shape))
    out = np.asarray(spec.apply(image, p, **draws))
    if gray and not spec.gray_native:
        if out.dtype != np.uint8:
            out = out.astype(np.float32)
        out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[:, :, None]
    out = to_uint8(out, rounded=p.rounded)
    return (out, spec.warp(work.shape, p, **draws)) if with_warp else out


def magnitude_params(spec: Corruption, magnitude) -> Params:
    """A C-bar corruption's parameters at a real-valued ``magnitude`` (0-10, the reference's scale);
    ValueError for another corruption or a magnitude out of range."""
    if "magnitude" not in spec.param_names:
        raise ValueError(f"magnitude applies to the C-bar corruptions (profiles imagenet-cbar, cifar-cbar); "
                         f"{spec.name} takes a severity.")  # fmt: skip
    if isinstance(magnitude, bool) or not isinstance(magnitude, numbers.Real) or not 0 <= magnitude <= 10:
        raise ValueError(f"magnitude must be a number from 0 to 10; got {magnitude!r}.")
    return Params({"magnitude": float(magnitude)})


@overload
def corrupt(image: np.ndarray, corruption: str, severity: int | None = None, *, seed: Seed = None, profile: str = "imagenet", magnitude: float | None = None) -> np.ndarray: ...  # noqa: E501
@overload
def corrupt(image: Image.Image, corruption: str, severity: int | None = None, *, seed: Seed = None, profile: str = "imagenet", magnitude: float | None = None) -> Image.Image: ...  # noqa: E501


def corrupt(image, corruption, severity=None, *, seed=None, profile="imagenet", magnitude=None):
    """Corrupt one image with one of the catalogue's corruptions at a severity from 1 to 5.

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        uint8 array of shape HxW, HxWx1, HxWx3 or HxWx4 (alpha passes through untouched), or a
        PIL image in mode L, RGB or RGBA. Any size from 1x1 up.
    corruption : str
        A name from :func:`corruptgen.list_corruptions`, e.g. ``"glass_blur"``.
    severity : int
        1 (mild) to 5 (severe); 1 when omitted.
    seed : None, int or numpy.random.Generator
        The same int gives the same bytes in any process; a Generator is advanced.
    profile : str
        Which severity tables: ``"imagenet"`` (default, at any size, as imagecorruptions),
        ``"cifar"`` (32 px tables), ``"tinyimagenet"`` (64 px tables) or ``"mnist-c"``
        (MNIST-C's one setting of each of its corruptions: severity 1 only), ``"imagenet-cbar"`` or
        ``"cifar-cbar"`` (ImageNet-C-bar's and CIFAR-10-C-bar's five benchmark magnitudes).
    magnitude : float, optional
        C-bar corruptions only, instead of a severity: the reference's real-valued magnitude from 0
        to 10 (e.g. to sweep it); the draws, and so the layout, are those of every severity.

    Returns
    -------
    The corrupted image, of the input's type, shape, dtype and mode.

    Examples
    --------
    >>> import numpy as np, corruptgen
    >>> img = np.full((28, 28), 128, np.uint8)
    >>> corruptgen.corrupt(img, "gaussian_noise", 3, seed=0).shape
    (28, 28)
    """
    spec = get_corruption(corruption)
    if magnitude is not None and severity is not None:
        raise ValueError("give a severity or a magnitude, not both.")
    params = None if magnitude is None else magnitude_params(spec, magnitude)
    severity = check_severity(1 if severity is None else severity)
    profile = check_profile(profile)
    # deterministic corruptions never draw: skip building a generator (OS entropy for seed=None)
    rng = as_generator(seed) if spec.random else check_seed(seed)

    mode = None
    if isinstance(image, Image.Image):
        mode = image.mode
        if mode not in PIL_MODES:
            raise ValueError(f"PIL image mode must be one of {', '.join(PIL_MODES)}; got {mode!r}.")
        pixels = np.asarray(image)
    elif isinstance(image, np.ndarray):
        pixels = image
        check_array(pixels)
    else:
        raise ValueError(f"image must be a numpy.ndarray or a PIL.Image.Image; got {type(image).__name__}.")

    shape = pixels.shape
    hwc = pixels.reshape(shape[0], shape[1], -1)
    alpha = hwc[:, :, 3:] if hwc.shape[2] == 4 else None
    color = np.ascontiguousarray(hwc[:, :, :3])
    out = corrupt_rgb_or_gray(color, spec, severity, rng, profile, params=params)
    if alpha is not None:
        out = np.concatenate([out, alpha], axis=2)
    out = out.reshape(shape)
    return Image.fromarray(out) if mode else out


def perturb(image, perturbation: str, difficulty: int = 1, *, seed: Seed = None, profile: str = "imagenet-p",
            crop: tuple[int, int] | None = None) -> np.ndarray:  # fmt: skip
    """One ImageNet-P perturbation sequence of an image: every frame, as a build writes them.

    Parameters
    ----------
    image : numpy.ndarray or PIL.Image.Image
        uint8 HxW, HxWx1 or HxWx3 (or a PIL image in mode L or RGB), e.g. ImageNet's Resize(256) image.
    perturbation : str
        A name from :func:`corruptgen.corruptions.sequences.list_perturbations`, e.g. ``"rotate"``.
    difficulty : int
        1 (the benchmark's), or 2 and 3 for the noise sequences.
    seed : None, int or numpy.random.Generator
        The same int gives the same frames in any process.
    profile : str
        ``"imagenet-p"`` (224 px parameters) or ``"cifar-p"`` (32 px); pixel parameters scale with the frame.
    crop : (height, width), optional
        Frames are centre-cropped to it (ImageNet-P: (224, 224) from the Resize(256) image; geometric
        sequences move the whole image first); default the image's own size.

    Returns
    -------
    uint8 array ``T x h x w`` (grey input) or ``T x h x w x 3``.

    Examples
    --------
    >>> import numpy as np, corruptgen
    >>> corruptgen.perturb(np.full((256, 300, 3), 90, np.uint8), "translate", crop=(224, 224), seed=0).shape
    (41, 224, 224, 3)
    """
    from .corruptions.sequences import P_PROFILES, get_sequence, perturb_rgb_or_gray

    spec = get_sequence(perturbation)
    if profile not in P_PROFILES:
        raise ValueError(f"unknown perturbation profile {profile!r}; valid profiles are {', '.join(P_PROFILES)}.")
    if difficulty not in spec.difficulties(profile):
        raise ValueError(f"{perturbation} has difficulty {', '.join(map(str, spec.difficulties(profile)))}; got {difficulty!r}.")
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB"):
            raise ValueError(f"PIL image mode must be L or RGB; got {image.mode!r}.")
        image = np.asarray(image)
    elif not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy.ndarray or a PIL.Image.Image; got {type(image).__name__}.")
    check_array(image)
    if image.ndim == 3 and image.shape[2] == 4:
        raise ValueError("image must be grey or RGB for a sequence; drop the alpha channel first.")
    if crop is not None and (crop[0] > image.shape[0] or crop[1] > image.shape[1] or min(crop) < 1):
        raise ValueError(f"crop {tuple(crop)} does not fit in the {image.shape[0]} x {image.shape[1]} image.")
    gray2d = image.ndim == 2
    frames = perturb_rgb_or_gray(np.ascontiguousarray(image.reshape(image.shape[0], image.shape[1], -1)), perturbation,
                                 difficulty, as_generator(seed), profile, crop)  # fmt: skip
    return frames[..., 0] if gray2d else frames
