"""Colored MNIST, generated from the MNIST idx files corruptgen already reads, seeded and byte-reproducible.

Two variants, as their references build them (``../shared/research/shifts.md`` section 5.2):

- ``domainbed`` (facebookresearch/DomainBed ``datasets.py:ColoredMNIST``): MNIST's train and test images pooled
  (70,000), shuffled, environment i taking every third image from i; three environments whose colour flips with
  probability 0.1, 0.2 and 0.9 (``+90%``, ``+80%``, ``-90%``); 28 x 28;
- ``irm`` (facebookresearch/InvariantRiskMinimization ``code/colored_mnist/main.py``): the first 50,000 training
  images shuffled, split into two training environments (the even images flip colour with 0.2, the odd ones with
  0.1) and the last 10,000 as the test environment (flip 0.9); downsampled to 14 x 14 by taking every other pixel.

In both, the label is ``digit < 5`` flipped with probability 0.25, the colour is the label flipped with the
environment's probability, and the image is two channels (red, green) with the channel of the other colour zeroed.
The references draw with torch's global generator; here every draw comes from one ``numpy.random.Generator`` seeded
by ``--seed``, so the same seed gives the same bytes (the distributions are the references', the draws are not).

Written under ``--out``: ``<environment>/images.npy`` (uint8, N x 2 x H x W, the references' tensors x 255) and
``<environment>/labels.npy``, ``metadata.csv`` (``env, index, y, color, digit, source``: WILDS' style, one row per
image), with ``--image-format png`` each image as ``<environment>/<label>/<index>.png`` too (red and green, blue zero:
the folder tree ImageFolder reads), and ``corruptgen.json`` recording the variant, seed and each environment's label-colour and label-digit
agreement.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corruptgen import __version__
from corruptgen.files import atomic_write

from .base import DatasetError, check_generated_out, encode_image, write_record
from .mnist import FILES, find_idx, read_idx

VARIANTS = ("domainbed", "irm")
LABEL_NOISE = 0.25


@dataclass(frozen=True)
class Environment:
    name: str
    images: np.ndarray
    """uint8 N x 2 x H x W."""
    y: np.ndarray
    color: np.ndarray
    digit: np.ndarray
    source: np.ndarray
    """Each image's index in the pool it was drawn from (``domainbed``: train then test; ``irm``: train)."""
    flip: float

    def agreement(self) -> dict:
        """The shares the reference's construction aims at: label = colour, label = (digit < 5)."""
        return {"images": int(len(self.y)), "colour_flip": self.flip,
                "label_colour": float(np.mean(self.y == self.color)) if len(self.y) else None,
                "label_digit": float(np.mean(self.y == (self.digit < 5))) if len(self.y) else None}  # fmt: skip


def _read(src: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    paths = [find_idx(Path(src), stem) for stem in FILES[split]]
    if None in paths:
        raise DatasetError(f"{FILES[split][paths.index(None)]}[.gz] not found in {src}; Colored MNIST needs MNIST's idx files.")
    return read_idx(paths[0], 3), read_idx(paths[1], 1)


def _colour(rng: np.random.Generator, images: np.ndarray, digits: np.ndarray, flip: float, name: str,
            source: np.ndarray) -> Environment:  # fmt: skip
    """The reference's ``make_environment`` / ``color_dataset``: binary label with 25 % noise, colour from the label
    flipped with ``flip``, the other colour's channel zeroed."""
    y = (digits < 5).astype(np.uint8) ^ (rng.random(len(digits)) < LABEL_NOISE)
    color = y ^ (rng.random(len(digits)) < flip)
    stacked = np.stack([images, images], axis=1).copy()
    stacked[np.arange(len(images)), 1 - color] = 0
    return Environment(name, stacked, y.astype(np.uint8), color.astype(np.uint8), digits.astype(np.uint8), source, flip)


def generate(src: Path, variant: str = "domainbed", seed: int = 0) -> list[Environment]:
    """The environments of ``variant`` from the MNIST idx files in ``src``."""
    if variant not in VARIANTS:
        raise DatasetError(f"unknown Colored MNIST variant {variant!r}; valid ones are {', '.join(VARIANTS)}.")
    rng = np.random.default_rng(seed)
    train_x, train_y = _read(src, "train")
    if variant == "domainbed":
        test_x, test_y = _read(src, "test")
        images, digits = np.concatenate([train_x, test_x]), np.concatenate([train_y, test_y])
        order = rng.permutation(len(images))
        envs = []
        for i, (name, flip) in enumerate((("+90%", 0.1), ("+80%", 0.2), ("-90%", 0.9))):
            pick = order[i::3]
            envs.append(_colour(rng, images[pick], digits[pick], flip, name, pick))
        return envs
    pool = min(50_000, len(train_x))
    order = rng.permutation(pool)  # the reference shuffles the first 50,000 (its "train" part) only
    small = train_x[:, ::2, ::2]
    train, test = order, np.arange(pool, len(train_x))
    # main.py:L68-L70: the even images flip colour with 0.2, the odd ones with 0.1, the last 10,000 with 0.9
    return [_colour(rng, small[train[0::2]], train_y[train[0::2]], 0.2, "train-0.2", train[0::2]),
            _colour(rng, small[train[1::2]], train_y[train[1::2]], 0.1, "train-0.1", train[1::2]),
            _colour(rng, small[test], train_y[test], 0.9, "test-0.9", test)]  # fmt: skip


def rgb(two: np.ndarray) -> np.ndarray:
    """A 2 x H x W (red, green) image as H x W x 3 RGB with blue zero: how it is shown, saved and corrupted."""
    out = np.zeros((*two.shape[1:], 3), dtype=np.uint8)
    out[..., 0], out[..., 1] = two[0], two[1]
    return out


def write(envs: list[Environment], out: Path, variant: str, seed: int, src: Path, folder: bool = False) -> dict:
    """The environments' arrays, ``metadata.csv`` and ``corruptgen.json`` under ``out`` (and with ``folder`` each
    image as ``<environment>/<label>/<index>.png``, the tree torchvision's ImageFolder reads); returns the record."""
    out = Path(out)
    check_generated_out(out)
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["env", "index", "y", "color", "digit", "source"])
    for env in envs:
        for name, array in (("images.npy", env.images), ("labels.npy", env.y)):
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array))
            atomic_write(out / env.name / name, buffer.getvalue())
        for i in range(len(env.y)):
            writer.writerow([env.name, i, int(env.y[i]), int(env.color[i]), int(env.digit[i]), int(env.source[i])])
            if folder:
                atomic_write(out / env.name / str(int(env.y[i])) / f"{i:05d}.png", encode_image(rgb(env.images[i]), ".png", 95))
    atomic_write(out / "metadata.csv", rows.getvalue().encode())
    return write_record(out, {"corruptgen_version": __version__, "generated": "colored-mnist", "variant": variant,
                              "seed": seed, "source": str(src), "folder": folder,
                              "environments": {env.name: env.agreement() for env in envs}})  # fmt: skip
