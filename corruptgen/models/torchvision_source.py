"""``torchvision:NAME[?weights=ENUM]``: ``torchvision.models.get_model``, preprocessed by ``weights.transforms()``.

Classifiers return their 1000 ImageNet logits. Detectors (Faster R-CNN, RetinaNet, FCOS, SSD, Mask R-CNN, ...)
take 0-1 float images of any size and return, per image, boxes (x1 y1 x2 y2 pixels), scores and labels in
COCO's 91-index scheme: the COCO category ids the COCO task reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import ModelError, Predictor, describe_transform, offline, pick_device, seeded_random_init


def load(name: str, *, weights=None, device=None, precision="fp32", classes=None, templates=None) -> Predictor:
    offline()
    import torch
    import torchvision
    from torchvision.models import get_model, get_model_weights

    name, _, query = name.partition("?")
    chosen = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("weights", "DEFAULT")
    device = pick_device(device)
    try:
        enum = get_model_weights(name)
    except ValueError:
        raise ModelError(f"--model torchvision:{name}: torchvision has no such model (torchvision.models.list_models() "
                         "names them).") from None  # fmt: skip
    try:
        known = enum[chosen] if chosen != "DEFAULT" else enum.DEFAULT
    except KeyError:
        raise ModelError(f"--model torchvision:{name}?weights={chosen}: valid weights are "
                         f"{', '.join(w.name for w in enum)} and DEFAULT.") from None  # fmt: skip
    detection = "detection" in enum.__module__
    if weights == "none":
        seeded_random_init()
    # built without weights (a detector without its backbone's either: nothing downloads), then loaded from the file
    model = get_model(name, weights=None, **({"weights_backbone": None} if detection else {}))
    if weights != "none":
        path = Path(weights) if weights else Path(torch.hub.get_dir()) / "checkpoints" / Path(known.url).name
        if not path.is_file():
            if weights:
                raise ModelError(f"--weights {weights}: no such file; give the state dict of torchvision's {name}.")
            raise ModelError(f"--model torchvision:{name}: its weights {known} are not in the local cache ({path}); "
                             f"download them once where there is a network (torchvision.models.get_model('{name}', "
                             f"weights='{known.name}')), or pass --weights FILE.")  # fmt: skip
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    record = {"source": "torchvision", "name": name, "weights": "none (random, seed 0)" if weights == "none" else (weights or str(known)),
              "preprocessing": {"library": f"torchvision {torchvision.__version__} {known}.transforms()",
                                "transform": describe_transform(known.transforms())}}  # fmt: skip
    if detection:
        return DetectorPredictor(model, known.transforms(), device, precision, record)
    return Predictor(model, known.transforms(), device, precision, record)


class DetectorPredictor(Predictor):
    """A torchvision detector: images of any size in, per image ``{"boxes", "scores", "labels"}`` out."""

    category_scheme = "coco"
    """Its labels are COCO's category ids (torchvision's 91-index scheme)."""

    def __call__(self, images):
        from torchvision.transforms.functional import to_tensor

        inputs = [self.preprocess(to_tensor(np.array(image))).to(self.device) for image in images]  # a writable copy
        with self.inference():
            outputs = self.module(inputs)
        return [{key: out[key].float().cpu().numpy() if key != "labels" else out[key].cpu().numpy()
                 for key in ("boxes", "scores", "labels")} for out in outputs]  # fmt: skip
