"""One corruption on one image-like object, returned as the same kind of object.

numpy arrays (every shape :func:`corruptgen.corrupt` takes, uint8 or float in [0, 1]), PIL
images, and torch tensors ``C x H x W`` or batched ``... x C x H x W`` (uint8 or float in
[0, 1], on any device; torchvision's tv_tensors keep their class). torch is never imported
here: a tensor is recognised by its type's module, and its own methods do the conversions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from corruptgen.api import corrupt


def is_tensor(value) -> bool:
    return any(cls.__module__ == "torch" and cls.__name__ == "Tensor" for cls in type(value).__mro__)


def is_image_like(value) -> bool:
    return isinstance(value, np.ndarray | Image.Image) or is_tensor(value)


def _float_to_uint8(array: np.ndarray, what: str) -> np.ndarray:
    if array.size and (np.nanmin(array) < 0.0 or np.nanmax(array) > 1.0 or np.isnan(array).any()):
        raise ValueError(f"a float {what} must hold values in [0, 1]; got min {np.nanmin(array):g}, max {np.nanmax(array):g}.")
    return np.rint(array * 255.0).astype(np.uint8)


def apply(image, params: dict, profile: str):
    """``image`` corrupted with ``params`` (``corruption``, ``severity``, ``seed``), same type back."""
    if params["corruption"] is None:
        return image
    if isinstance(image, Image.Image):
        return corrupt(image, params["corruption"], params["severity"], seed=params["seed"], profile=profile)
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint8:
            return corrupt(image, params["corruption"], params["severity"], seed=params["seed"], profile=profile)
        if np.issubdtype(image.dtype, np.floating):
            out = corrupt(_float_to_uint8(image, "array"), params["corruption"], params["severity"], seed=params["seed"], profile=profile)
            return (out.astype(np.float32) / np.float32(255)).astype(image.dtype)
        raise ValueError(f"a numpy image must be uint8, or float in [0, 1]; got dtype {image.dtype}.")
    if is_tensor(image):
        return apply_batch(image, lambda _: params, profile)[0]
    raise ValueError(f"an image must be a numpy array, a PIL image or a torch tensor; got {type(image).__name__}.")


def apply_batch(tensor, params_for: Callable[[int], dict], profile: str):
    """A ``C x H x W`` or ``... x C x H x W`` tensor, each image with ``params_for(i)``; returns
    (tensor of the same shape, dtype, device and class, the list of params used)."""
    if tensor.ndim < 3 or tensor.shape[-3] not in (1, 3, 4):
        raise ValueError(f"a tensor image must be C x H x W or N x C x H x W with C in 1, 3, 4; got shape {tuple(tensor.shape)}.")
    floating = tensor.is_floating_point()
    if not floating and str(tensor.dtype) != "torch.uint8":
        raise ValueError(f"a tensor image must be uint8, or float in [0, 1]; got {tensor.dtype}.")
    leading = tuple(tensor.shape[:-3])
    flat = tensor.detach().reshape(-1, *tensor.shape[-3:]).cpu()
    out = flat.clone()
    used = []
    for i in range(flat.shape[0]):
        params = params_for(i)
        used.append(params)
        if params["corruption"] is None:
            continue
        hwc = flat[i].permute(1, 2, 0).numpy()
        pixels = _float_to_uint8(hwc.astype(np.float32), "tensor") if floating else np.ascontiguousarray(hwc)
        result = corrupt(pixels, params["corruption"], params["severity"], seed=params["seed"], profile=profile)
        values = result.astype(np.float32) / np.float32(255) if floating else result
        out[i].copy_(_like(flat, values.transpose(2, 0, 1)))
    out = out.reshape(*leading, *tensor.shape[-3:]).to(tensor.device)
    if type(tensor) is not type(out):
        out = out.as_subclass(type(tensor))  # tv_tensors.Image / Video stay what they were
    return out, used


def _like(tensor, array: np.ndarray):
    """``array`` as a tensor (the tensor's own constructor: torch stays unimported here)."""
    return tensor.new_tensor(np.ascontiguousarray(array))
