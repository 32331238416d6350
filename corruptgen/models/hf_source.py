"""``hf:ORG/NAME`` (or ``hf:/path/to/a/saved/model``): a transformers image classifier, preprocessed by its own
image processor (``AutoImageProcessor``), its logits over its ``id2label`` classes (ImageNet-1k's order for
the ImageNet classifiers on the Hub)."""

from __future__ import annotations

from .base import ModelError, Predictor, offline, pick_device


def load(name: str, *, weights=None, device=None, precision="fp32", classes=None, templates=None) -> Predictor:
    offline()
    import os

    import transformers
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    if weights == "none":
        raise ModelError(f"--model hf:{name}: --weights none needs a model's config, which the Hub holds; save one with "
                         "save_pretrained and give its folder (hf:/path/to/folder).")  # fmt: skip
    source = weights or name
    local = os.environ.get("CORRUPTGEN_ALLOW_DOWNLOADS") != "1"
    device = pick_device(device)
    try:
        model = AutoModelForImageClassification.from_pretrained(source, local_files_only=local)
        processor = AutoImageProcessor.from_pretrained(source, local_files_only=local)
    except (OSError, ValueError) as exc:
        raise ModelError(f"--model hf:{name}: no image classifier and image processor at {source!r} in the local cache or "
                         f"folder ({type(exc).__name__}); download it once where there is a network "
                         "(AutoModelForImageClassification.from_pretrained), or give a save_pretrained folder.") from None  # fmt: skip

    def preprocess(image):
        return processor(images=image, return_tensors="pt")["pixel_values"][0]

    def forward(pixel_values):
        return model(pixel_values=pixel_values).logits

    record = {"source": "hf", "name": name, "weights": str(source), "classes": len(model.config.id2label),
              "preprocessing": {"library": f"transformers {transformers.__version__} {type(processor).__name__}",
                                "processor": processor.to_dict()}}  # fmt: skip
    return Predictor(model, preprocess, device, precision, record, forward=forward)
