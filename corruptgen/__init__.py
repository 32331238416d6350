"""corruptgen: fast, seeded, reference-faithful image corruptions and -C dataset builds.

>>> import numpy as np, corruptgen
>>> corruptgen.list_corruptions("noise")
['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise']
"""

from .api import corrupt
from .corruptions import get_corruption, list_corruptions

__version__ = "0.1.0"

__all__ = ["__version__", "corrupt", "get_corruption", "list_corruptions"]
