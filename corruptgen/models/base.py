"""What every model source returns: a :class:`Predictor`, the library's preprocessing applied to each image,
batched on the device, scores back as NumPy."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class ModelError(ValueError):
    """A model spec that cannot be loaded (unknown, missing weights, missing library); the message says why."""


def offline() -> None:
    """Keep the hub libraries from downloading unless the user allowed it (set before they are imported;
    where they already were, a missing weight still fails, after their retries)."""
    if os.environ.get("CORRUPTGEN_ALLOW_DOWNLOADS") != "1":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pick_device(device: str | None) -> str:
    import torch

    if device is None:
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"--device {device}: this machine has no CUDA device; use --device cpu.")
    return device


DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def describe_transform(transform) -> str:
    """A transform's repr without the memory addresses some of its parts print (the record stays the same
    bytes from run to run)."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(transform))


def seeded_random_init() -> None:
    """``--weights none``: the same random weights every run (results comparable across runs and workers)."""
    import torch

    torch.manual_seed(0)


class Predictor:
    """``predictor(images)``: a list of RGB uint8 H x W x 3 arrays -> N x C scores (float32 NumPy). The
    library's preprocessing runs per image (PIL in, tensor out), the model in inference mode on ``device``,
    under autocast at ``precision``."""

    batch_format = "list"

    def __init__(self, module, preprocess: Callable, device: str, precision: str, record: dict,
                 forward: Callable | None = None):  # fmt: skip
        import torch

        self.module, self.preprocess, self.device, self.precision = module.eval().to(device), preprocess, device, precision
        self.forward = forward or self.module
        self.record = {**record, "device": device, "precision": precision}
        self._dtype = getattr(torch, DTYPES[precision])
        self._pool = None

    def describe(self) -> dict:
        """What the results record of the model: its source, name, weights and preprocessing."""
        return dict(self.record)

    def batch(self, images) -> torch.Tensor:  # noqa: F821
        """The library's preprocessing of each image, on a pool of threads (PIL's resizes release the GIL, so
        they run beside the loader's decoding and the previous batch's forward), stacked on the device."""
        import torch

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="corruptgen-preprocess")
        tensors = list(self._pool.map(self._prepare, images))
        return torch.stack(tensors).to(self.device)

    def _prepare(self, image):
        from PIL import Image

        return self.preprocess(Image.fromarray(np.ascontiguousarray(image)))

    adaptation = None
    """Set by test-time adaptation (:mod:`corruptgen.adapt`): it then runs the model, gradients on."""

    def inference(self):
        """The context a forward pass runs in: inference mode, autocast at the run's precision."""
        import contextlib

        import torch

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        stack.enter_context(torch.autocast(self.device.split(":")[0], dtype=self._dtype, enabled=self.precision != "fp32"))
        return stack

    def __call__(self, images) -> np.ndarray:
        inputs = self.batch(images)
        if self.adaptation is not None:
            return self.adaptation(inputs).float().cpu().numpy()
        with self.inference():
            outputs = self.forward(inputs)
        return outputs.float().cpu().numpy()
