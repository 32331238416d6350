"""corruptgen: fast, seeded, reference-faithful image corruptions and -C dataset builds.

>>> import numpy as np, corruptgen
>>> corruptgen.list_corruptions("noise")
['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise']
"""

def _source_checkout_kernels() -> None:
    # Installed, the top-level kernels/ folder *is* corruptgen.kernels (setup.cfg package_dir).
    # Imported straight from a source checkout (python run in the repository root), it sits
    # beside this package instead: register it under the same name so the imports agree.
    import importlib.util
    import os
    import sys

    here = os.path.dirname(__file__)
    beside = os.path.join(os.path.dirname(here), "kernels", "__init__.py")
    if "corruptgen.kernels" in sys.modules or importlib.util.find_spec("corruptgen.kernels") or not os.path.isfile(beside):
        return
    spec = importlib.util.spec_from_file_location("corruptgen.kernels", beside, submodule_search_locations=[os.path.dirname(beside)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["corruptgen.kernels"] = module
    spec.loader.exec_module(module)


_source_checkout_kernels()

__version__ = "0.6.0"

_LAZY = {"corrupt": "corruptgen.api", "perturb": "corruptgen.api", "get_corruption": "corruptgen.corruptions",
         "list_corruptions": "corruptgen.corruptions"}
"""Public names imported on first use (PEP 562): ``import corruptgen`` (every CLI call, every
DataLoader worker) does not pay for NumPy, OpenCV and Numba until a corruption is asked for."""


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'corruptgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["__version__", "corrupt", "get_corruption", "list_corruptions", "perturb"]
