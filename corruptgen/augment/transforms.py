"""``RandomCorruption`` and ``Corrupt``: the catalogue as training-time transforms.

Parameters are drawn outside the kernels (albumentations' split): :mod:`.sampling` decides
which corruption, severity and seed; :mod:`.images` applies it to one image of any supported
type; :mod:`.structure` finds the images in a sample and hands every other object back as is.
"""

from __future__ import annotations

import importlib.util
import numbers
import os
import sys

import numpy as np

from corruptgen.corruptions import REGISTRY
from corruptgen.rng import generator

from . import images as image_types
from . import targets as target_moves
from .sampling import CorruptionSampler
from .structure import SPATIAL_TV_TENSORS, flatten, image_paths, rebuild, spatial_targets, tv_tensor_kind


def _transform_base() -> type:
    """torchvision.transforms.v2.Transform when torchvision is installed (so the transforms are v2
    transforms: nn.Modules that v2.Compose, RandomApply and friends treat as their own), else object."""
    if importlib.util.find_spec("torchvision") is None:
        return object
    try:
        from torchvision.transforms.v2 import Transform
    except Exception:  # an installed but broken torchvision (CUDA-only build) must not break augmentation
        return object
    return Transform


def _worker() -> tuple[int, int] | None:
    """``(id, seed)`` of the torch DataLoader worker this runs in, if any (torch is not imported here)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    info = torch.utils.data.get_worker_info()
    return (info.id, info.seed) if info is not None else None


class RandomCorruption(_transform_base()):
    """Apply, with probability ``p``, one corruption drawn from ``corruptions`` at a severity drawn
    from ``severity``.

    Parameters
    ----------
    corruptions : a group (``"benchmark"``, ``"all"``, ``"extra"``, ``"noise"``, ``"blur"``,
        ``"weather"``, ``"digital"``), one name, or a list of names.
    severity : an int 1-5, an inclusive ``(lo, hi)`` range, or a list; drawn uniformly.
    weights : relative probabilities of the corruptions (one per name), uniform by default.
    p : probability of corrupting at all.
    profile : severity tables, as for :func:`corruptgen.corrupt`.
    seed : None (fresh entropy; each DataLoader worker draws its own stream) or an int (the same
        draws in every run; per DataLoader worker, seeded by the worker's id). For the same pixels
        per sample index whatever the worker count, use :meth:`at` or :class:`CorruptedDataset`.

    Notes
    -----
    Inputs: a numpy array (uint8, or float in [0, 1]; every shape :func:`corruptgen.corrupt`
    takes), a PIL image, a torch tensor ``C x H x W`` or batched ``N x C x H x W`` (uint8 or float
    in [0, 1]; each image of a batch draws its own corruption), a torchvision tv_tensor (a
    ``Video``'s frames share one draw), or a
    sample (dict / tuple / list) holding one, as torchvision.transforms.v2 finds it. The same
    types come back; targets are the same objects. ``return_params=True`` also returns the
    parameters (``{"corruption", "severity", "seed"}``, a list for a batch) for :meth:`replay`.

    Examples
    --------
    >>> import numpy as np
    >>> t = RandomCorruption("noise", severity=(1, 3), seed=0)
    >>> out, params = t(np.full((32, 32, 3), 128, np.uint8), return_params=True)
    >>> sorted(params)
    ['corruption', 'seed', 'severity']
    """

    def __init__(self, corruptions="benchmark", severity=(1, 5), *, weights=None, p: float = 1.0,
                 profile: str = "imagenet", seed: int | None = None):  # fmt: skip
        super().__init__()
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative int; got {seed!r}.")
        self.sampler = CorruptionSampler.create(corruptions, severity, weights, p, profile)
        self.seed = None if seed is None else int(seed)
        self._arguments = {"corruptions": corruptions, "severity": severity, "weights": weights, "p": p,
                           "profile": profile, "seed": seed}  # fmt: skip
        self._generator: np.random.Generator | None = None
        self._generator_key: tuple | None = None

    # -- drawing ----------------------------------------------------------------------------------

    def _rng(self) -> np.random.Generator:
        worker = _worker()
        key = (os.getpid(), worker[0] if worker else None)
        if self._generator is None or self._generator_key != key:
            if self.seed is None:  # a new process or worker: fresh entropy (the worker's own seed under torch)
                sequence = np.random.SeedSequence(worker[1] if worker else None)
            else:
                sequence = np.random.SeedSequence([self.seed, worker[0]] if worker else self.seed)
            self._generator, self._generator_key = generator(sequence), key
        return self._generator

    def at(self, epoch: int, index: int) -> _AtIndex:
        """This transform with draws that depend only on ``(seed, epoch, index)``: the same pixels
        for a sample whatever the DataLoader's worker count or visiting order."""
        if self.seed is None:
            raise ValueError("at(epoch, index) needs a transform made with seed=<int>.")
        return _AtIndex(self, int(epoch), int(index))

    # -- applying ---------------------------------------------------------------------------------

    def __call__(self, *inputs, return_params: bool = False):
        out, params = self._apply(inputs[0] if len(inputs) == 1 else inputs, self._rng, None)
        return (out, params) if return_params else out

    def replay(self, *inputs, params):
        """Apply exactly ``params`` (as returned with ``return_params=True``) to the inputs."""
        queue = list(params) if isinstance(params, list) else [params]
        return self._apply(inputs[0] if len(inputs) == 1 else inputs, None, queue)[0]

    def _apply(self, sample, rng_source, replayed: list | None):
        if isinstance(sample, np.ndarray) and not replayed:  # the data loader's common case: one bare array
            params = self.sampler.draw(rng_source())
            return image_types.apply(sample, params, self.sampler.profile), params
        leaves = flatten(sample)
        images = image_paths(leaves)
        if not images:
            raise ValueError(f"found no image in a {type(sample).__name__}; give a numpy array, a PIL image, a torch "
                             "tensor, or a dict / tuple / list holding one (under 'image' when it holds several arrays).")  # fmt: skip
        rng = rng_source() if rng_source is not None else None
        targets = spatial_targets(leaves, images)
        # one image with torchvision's own target types: they move with a geometric corruption
        image = dict(leaves)[next(iter(images))] if len(images) == 1 else None
        movable = bool(targets) and image is not None and not (image_types.is_tensor(image) and image.ndim > 3) \
            and all(kind in SPATIAL_TV_TENSORS for kind in targets)  # fmt: skip
        used: list[dict] = []

        def next_params() -> dict:
            params = replayed.pop(0) if replayed else (self.sampler.draw(rng) if rng is not None else None)
            if params is None:
                raise ValueError("replay was given fewer parameter sets than the input has images.")
            name = params["corruption"]
            if name is not None and targets and not movable and REGISTRY[name].is_geometric(self.sampler.profile):
                raise ValueError(f"{name} moves image content under profile {self.sampler.profile!r} and the sample "
                                 f"carries {', '.join(targets)}, which only torchvision's BoundingBoxes, Mask and "
                                 "KeyPoints beside one image can follow; leave it out, or use those.")  # fmt: skip
            used.append(params)
            return params

        shared: dict = {}  # one draw per sample: every image of it gets the same corruption

        def sample_params() -> dict:
            if "params" not in shared:
                shared["params"] = next_params()
            return shared["params"]

        def sample_warp():
            """The warp the sample's draw moves content by, built once for all its targets (None: none)."""
            if "warp" not in shared:
                params = sample_params()
                shared["warp"] = None if params["corruption"] is None else target_moves.warp_for(
                    params, target_moves.image_size(image), self.sampler.profile)  # fmt: skip
            return shared["warp"]

        def replace(path, leaf):
            if path not in images:
                if movable and tv_tensor_kind(leaf) in SPATIAL_TV_TENSORS and sample_warp() is not None:
                    return target_moves.move(leaf, sample_warp())
                return leaf
            if image_types.is_tensor(leaf) and leaf.ndim > 3:
                # a batch: each image draws its own; a video's frames are one sample and share one draw
                per_image = (lambda i: sample_params()) if type(leaf).__name__ == "Video" else (lambda i: next_params())
                return image_types.apply_batch(leaf, per_image, self.sampler.profile)[0]
            return image_types.apply(leaf, sample_params(), self.sampler.profile)

        out = rebuild(sample, replace)
        return out, (used[0] if len(used) == 1 else used)

    # -- description ------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        shown = {k: v for k, v in self._arguments.items() if not (k == "weights" and v is None)}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Corrupt(RandomCorruption):
    """One fixed corruption at one severity (seeded as :class:`RandomCorruption`).

    >>> Corrupt("fog", severity=3)
    Corrupt('fog', severity=3, profile='imagenet', seed=None)
    """

    def __init__(self, corruption: str, severity: int = 1, *, profile: str = "imagenet", seed: int | None = None):
        if not isinstance(corruption, str) or corruption not in REGISTRY:
            raise ValueError(f"unknown corruption {corruption!r}; valid names are {', '.join(REGISTRY)}.")
        if not isinstance(severity, numbers.Integral) or isinstance(severity, bool):
            raise ValueError(f"severity must be an integer from 1 to 5; got {severity!r}.")
        super().__init__([corruption], severity, p=1.0, profile=profile, seed=seed)
        self._arguments = {"corruption": corruption, "severity": severity, "profile": profile, "seed": seed}

    def extra_repr(self) -> str:
        args = dict(self._arguments)
        return f"{args.pop('corruption')!r}, " + ", ".join(f"{k}={v!r}" for k, v in args.items())


class _AtIndex:
    """A transform bound to one ``(epoch, index)``: its generator depends on nothing else."""

    def __init__(self, transform: RandomCorruption, epoch: int, index: int):
        self.transform, self.epoch, self.index = transform, epoch, index

    def __call__(self, *inputs, return_params: bool = False):
        rng = generator(np.random.SeedSequence([self.transform.seed, self.epoch, self.index]))
        out, params = self.transform._apply(inputs[0] if len(inputs) == 1 else inputs, lambda: rng, None)
        return (out, params) if return_params else out

    def __repr__(self) -> str:
        return f"{self.transform!r}.at(epoch={self.epoch}, index={self.index})"


class CorruptedDataset:
    """``dataset[index]`` through ``transform.at(epoch, index)``: with a seeded transform, sample
    ``index`` of epoch ``epoch`` gets the same corruption and pixels whatever ``num_workers`` is and
    in whatever order a DataLoader visits it. Call :meth:`set_epoch` before each epoch (workers
    that are not persistent pick it up when they start).

    Examples
    --------
    >>> import numpy as np
    >>> ds = CorruptedDataset([{"image": np.zeros((8, 8), np.uint8)}], Corrupt("contrast", seed=0))
    >>> len(ds), ds[0]["image"].shape
    (1, (8, 8))
    """

    def __init__(self, dataset, transform: RandomCorruption, epoch: int = 0):
        if transform.seed is None:
            raise ValueError("CorruptedDataset needs a transform made with seed=<int> (the seed is what makes it reproducible).")
        self.dataset, self.transform, self.epoch = dataset, transform, int(epoch)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return self.transform.at(self.epoch, index)(self.dataset[index])
