"""``open_clip:ARCH/TAG`` (or ``ARCH/path/to/weights``): a zero-shot classifier over the evaluated classes.

The text head is open_clip's ``build_zero_shot_classifier`` over the classes' names and the templates (the 80
OpenAI ImageNet templates by default, ``simple`` for open_clip's 7, or a file of lines with ``{}``); where a class
is one ImageNet class its name is open_clip's ``IMAGENET_CLASSNAMES`` entry (what CLIP evaluations use), else
the label space's name. Logits are ``100 x`` the cosine similarity of the normalised image embedding with each
class (CLIP_benchmark's ``zero_shot_classifier``; open_clip's own ImageNet eval). The head is built once per
set of classes and kept beside the model for the run."""

from __future__ import annotations

from pathlib import Path

from .base import ModelError, Predictor, describe_transform, offline, pick_device, seeded_random_init


def _templates(templates: str | None):
    from open_clip import OPENAI_IMAGENET_TEMPLATES, SIMPLE_IMAGENET_TEMPLATES

    if templates in (None, "openai"):
        return OPENAI_IMAGENET_TEMPLATES, "openai (80)"
    if templates == "simple":
        return SIMPLE_IMAGENET_TEMPLATES, "simple (7)"
    path = Path(templates)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise ModelError(f"--templates {templates}: cannot be read ({exc.strerror or exc}); give openai, simple or a file "
                         "of templates, one per line, each with {} for the class name.") from None  # fmt: skip
    if not lines or any("{}" not in line for line in lines):
        raise ModelError(f"--templates {templates}: every line needs {{}} where the class name goes.")
    return tuple(lines), str(path)


def class_names(classes) -> list[str]:
    """The prompts' class names: open_clip's ImageNet names for ImageNet classes, the label space's otherwise."""
    from open_clip import IMAGENET_CLASSNAMES

    names = []
    for c in classes:
        in1k = getattr(c, "in1k", ())
        names.append(IMAGENET_CLASSNAMES[in1k[0]] if len(in1k) == 1 else getattr(c, "name", str(c)))
    return names


def load(name: str, *, weights=None, device=None, precision="fp32", classes=None, templates=None) -> Predictor:
    offline()
    import open_clip
    import torch

    arch, _, tag = name.partition("/")
    if arch not in open_clip.list_models():
        raise ModelError(f"--model open_clip:{name}: open_clip has no architecture {arch!r} (open_clip.list_models()).")
    pretrained = None if weights == "none" else (weights or tag or None)
    if pretrained is None and weights != "none":
        raise ModelError(f"--model open_clip:{name}: name the weights (open_clip:{arch}/TAG, open_clip.list_pretrained()) "
                         "or pass --weights FILE (--weights none: random).")  # fmt: skip
    device = pick_device(device)
    if pretrained is None:
        seeded_random_init()
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=pretrained, device="cpu")
    except RuntimeError as exc:
        raise ModelError(f"--model open_clip:{name}: weights {pretrained!r} are neither in the local cache nor a file "
                         f"({exc}); download them once where there is a network, or pass --weights FILE.") from None  # fmt: skip
    if not classes:
        raise ModelError(f"--model open_clip:{name} is a zero-shot classifier: it needs the evaluated classes.")
    names = class_names(classes)
    prompts, which = _templates(templates)
    tokenizer = open_clip.get_tokenizer(arch)
    model = model.eval().to(device)
    with torch.inference_mode():
        head = open_clip.build_zero_shot_classifier(model, tokenizer=tokenizer, classnames=names, templates=prompts,
                                                    num_classes_per_batch=10, device=device, use_tqdm=False)  # fmt: skip

    def forward(images):
        features = model.encode_image(images)
        features = features / features.norm(dim=-1, keepdim=True)
        return 100.0 * features @ head.to(features.dtype)

    record = {"source": "open_clip", "name": name, "weights": "none (random, seed 0)" if pretrained is None else str(pretrained), "zero_shot": {
        "classes": len(names), "templates": which, "logit_scale": 100.0},
        "preprocessing": {"library": f"open_clip {open_clip.__version__} create_model_and_transforms (val)",
                          "transform": describe_transform(preprocess)}}  # fmt: skip
    predictor = Predictor(model, preprocess, device, precision, record, forward=forward)
    predictor.head = head
    predictor.classnames = names
    return predictor
