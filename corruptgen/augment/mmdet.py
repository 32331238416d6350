"""corruptgen in mmdetection 3.x pipelines: a ``Corrupt``-compatible transform, registered as
``CorruptgenCorrupt`` in mmdet's ``TRANSFORMS`` registry. Importable only with mmdet and mmcv
installed (never a dependency of corruptgen).

mmdetection's robustness config (``test_robustness.py`` inserts this step after loading)::

    dict(type='Corrupt', corruption='fog', severity=3)                                  # before
    dict(type='CorruptgenCorrupt', corruption='fog', severity=3)                        # after

with ``custom_imports = dict(imports=['corruptgen.augment.mmdet'])`` in the config so the
registry knows the name. Like mmdet's ``Corrupt``, it corrupts ``results['img']`` as loaded
(mmcv loads BGR, and the corruption runs on that array as imagecorruptions did there) and leaves
boxes and masks untouched; ``proba`` is the chance of corrupting at all.
"""

from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

from corruptgen.compat.imagecorruptions import corrupt, resolve


@TRANSFORMS.register_module(name="CorruptgenCorrupt")
class CorruptgenCorrupt(BaseTransform):
    """``corruption`` (an imagecorruptions name), ``severity`` (1-5), ``proba`` (default 1).

    It draws from NumPy's global state, as mmdet's ``Corrupt`` does through imagecorruptions, so
    mmengine's ``randomness=dict(seed=...)`` makes a run reproducible.
    """

    def __init__(self, corruption: str, severity: int = 1, proba: float = 1.0):
        super().__init__()
        if not 0.0 <= float(proba) <= 1.0:
            raise ValueError(f"proba must lie in [0, 1]; got {proba!r}.")
        resolve(severity, corruption)  # refuse a bad name or severity when the config is built
        self.corruption, self.severity, self.proba = corruption, severity, float(proba)

    def transform(self, results: dict) -> dict:
        if self.proba < 1.0 and np.random.rand() >= self.proba:
            return results
        results["img"] = corrupt(results["img"].astype(np.uint8), self.severity, self.corruption)
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(corruption={self.corruption!r}, severity={self.severity}, proba={self.proba})"
