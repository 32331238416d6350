"""Models by name: ``timm:NAME``, ``torchvision:NAME``, ``open_clip:ARCH/TAG``, ``hf:ORG/NAME``, each with its library's own
preprocessing, on the GPU when there is one; ``module:attr`` (a factory of your own) keeps working.

The registry below names each source's module and imports none of them: a source's library (an optional
extra: ``[timm]``, ``[clip]``, ``[hf]``, ``[torch]``) is imported when a spec asks for it.

- ``timm:resnet50`` (or ``resnet50.a1_in1k``, ``hf-hub:org/repo``, ``local-dir:/path``): ``timm.create_model``,
  preprocessed by timm's resolved data config (``resolve_model_data_config`` + ``create_transform``);
- ``torchvision:resnet50`` (``?weights=IMAGENET1K_V2``; default ``DEFAULT``): ``torchvision.models.get_model``,
  preprocessed by ``weights.transforms()``; detectors (``fasterrcnn_resnet50_fpn_v2``, ...) return COCO's
  category ids, as the COCO task reads them;
- ``open_clip:ViT-B-32/laion2b_s34b_b79k`` (or ``ARCH/path/to/weights.pt``): a zero-shot classifier over the
  evaluated classes (open_clip's ImageNet class names where the classes are ImageNet's, the 80 OpenAI templates
  by default), built with open_clip's ``build_zero_shot_classifier``, logits ``100 x cosine`` as CLIP_benchmark;
- ``hf:microsoft/resnet-50`` (or a ``save_pretrained`` folder): a transformers image classifier, preprocessed
  by its ``AutoImageProcessor``.

Weights come from the libraries' local caches or ``weights=`` (a file); ``weights="none"`` initialises them at
random (tests, smoke runs). Nothing is downloaded unless ``CORRUPTGEN_ALLOW_DOWNLOADS=1``: a missing weight is
one sentence saying where to put it.
"""

from __future__ import annotations

import importlib

from .base import ModelError, Predictor

SOURCES = {"timm": "timm_source", "torchvision": "torchvision_source", "open_clip": "open_clip_source", "hf": "hf_source"}
"""A spec's scheme -> the module (in this package) that loads it."""
EXTRAS = {"timm": "timm", "torchvision": "torch", "open_clip": "clip", "hf": "hf"}
"""The extra that installs each source's library."""


def is_model_spec(spec: str) -> bool:
    """Whether ``spec`` names a library's model (``timm:...``), rather than ``module:factory``.

    >>> is_model_spec("timm:resnet50"), is_model_spec("mymodel:load")
    (True, False)
    """
    return spec.split(":", 1)[0] in SOURCES


def load_model(spec: str, *, weights: str | None = None, device: str | None = None, precision: str = "fp32",
               classes=None, templates: str | None = None, classnames: str | None = None) -> Predictor:  # fmt: skip
    """The model ``spec`` names, as a callable over lists of RGB uint8 images returning N x classes scores (a
    detector: per image a mapping of boxes, scores and labels). ``classes``: the evaluated classes
    (:class:`corruptgen.labels.LabelClass` items), which a zero-shot model classifies over; ``templates``:
    ``openai`` (default), ``simple`` or a file of templates with ``{}``; ``classnames``: a file of the classes'
    names, one per line in their order (overrides the names the prompts use)."""
    scheme, _, name = spec.partition(":")
    if scheme not in SOURCES:
        raise ModelError(f"--model {spec}: unknown source {scheme!r}; valid ones are {', '.join(SOURCES)} (or module:factory).")
    if not name:
        raise ModelError(f"--model {spec}: name the model after '{scheme}:' (e.g. {scheme}:{_EXAMPLES[scheme]}).")
    if precision not in ("fp32", "bf16", "fp16"):
        raise ModelError(f"--precision {precision}: valid ones are fp32, bf16 and fp16.")
    module = importlib.import_module(f"{__name__}.{SOURCES[scheme]}")
    if classnames is not None:
        if scheme != "open_clip":
            raise ModelError(f"--classnames names the prompts of a zero-shot model (open_clip:); {spec} has its own head.")
        classes = _named(classes, classnames)
    try:
        return module.load(name, weights=weights, device=device, precision=precision, classes=classes, templates=templates)
    except ImportError as exc:  # the source's library (imported when a spec asks for it) is not installed
        raise ModelError(f"--model {spec} needs {exc.name or 'its library'}, which is not installed: "
                         f"pip install 'corruptgen[{EXTRAS[scheme]}]'.") from None


def _named(classes, path: str) -> list:
    """The classes, renamed from ``path``'s lines (one per class, in order)."""
    from pathlib import Path

    from corruptgen.labels import LabelClass

    try:
        names = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise ModelError(f"--classnames {path} cannot be read ({exc.strerror or exc}).") from None
    if classes is not None and len(names) != len(classes):
        raise ModelError(f"--classnames {path} holds {len(names)} names; the evaluated classes are {len(classes)}.")
    return [LabelClass(str(i), name, ()) for i, name in enumerate(names)]


_EXAMPLES = {"timm": "resnet50", "torchvision": "resnet50", "open_clip": "ViT-B-32/laion2b_s34b_b79k",
             "hf": "microsoft/resnet-50"}

__all__ = ["EXTRAS", "SOURCES", "ModelError", "Predictor", "is_model_spec", "load_model"]
