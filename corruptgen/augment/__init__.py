"""Training-time augmentation with the catalogue's corruptions.

>>> from corruptgen.augment import RandomCorruption, Corrupt, CorruptedDataset

Works on numpy arrays, PIL images, torch tensors (single or batched, uint8 or float) and
torchvision tv_tensors, alone or inside samples with targets; with torchvision installed the
transforms are ``torchvision.transforms.v2.Transform`` subclasses. The albumentations wrapper
is :mod:`corruptgen.augment.albumentations`.
"""

from .transforms import Corrupt, CorruptedDataset, RandomCorruption

__all__ = ["Corrupt", "CorruptedDataset", "RandomCorruption"]
