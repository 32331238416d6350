"""Models by name (#36): timm, torchvision (classifiers and detectors) and open_clip zero-shot, with random
weights (nothing downloads here): each library's own preprocessing, zero-shot logits equal to open_clip's
``build_zero_shot_classifier`` path done by hand, specs refused with one sentence, and results the same
bytes for any worker count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import cli, coded_photo, make_coco, make_natural
from PIL import Image

from corruptgen.labels import label_space
from corruptgen.models import ModelError, load_model

IMAGES = [coded_photo(i, i, i) for i in (1, 2, 3)]


@pytest.fixture(autouse=True)
def here(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.chdir(tmp_path)


def test_timm_model_is_fed_by_timms_own_data_config():
    import timm
    from timm.data import create_transform, resolve_model_data_config

    predict = load_model("timm:resnet18", weights="none", device="cpu")
    transform = create_transform(**resolve_model_data_config(predict.module))
    with torch.inference_mode():
        by_hand = predict.module(torch.stack([transform(Image.fromarray(i)) for i in IMAGES])).numpy()
    assert np.allclose(predict(IMAGES), by_hand, atol=1e-5)
    record = predict.describe()
    assert record["preprocessing"]["crop_pct"] == 0.95 and record["preprocessing"]["interpolation"] == "bicubic"
    assert record["weights"] == "none (random, seed 0)" and timm.__version__ in record["preprocessing"]["library"]
    vit = load_model("timm:vit_tiny_patch16_224", weights="none", device="cpu").describe()["preprocessing"]
    assert vit["mean"] == [0.5, 0.5, 0.5] and vit["crop_pct"] == 0.9  # not ImageNet's mean: the commonest silent mistake


def test_torchvision_model_is_fed_by_its_weights_transforms():
    from torchvision.models import ResNet18_Weights

    predict = load_model("torchvision:resnet18", weights="none", device="cpu")
    transform = ResNet18_Weights.DEFAULT.transforms()
    with torch.inference_mode():
        by_hand = predict.module(torch.stack([transform(Image.fromarray(i)) for i in IMAGES])).numpy()
    assert np.allclose(predict(IMAGES), by_hand, atol=1e-5)
    assert "ResNet18_Weights.IMAGENET1K_V1" in predict.describe()["preprocessing"]["library"]
    saved = Path("r18.pth")
    torch.save(predict.module.state_dict(), saved)
    again = load_model("torchvision:resnet18", weights=str(saved), device="cpu")
    assert np.array_equal(again(IMAGES), predict(IMAGES))


def test_open_clip_zero_shot_equals_build_zero_shot_classifier_by_hand():
    import open_clip
    from open_clip import IMAGENET_CLASSNAMES, SIMPLE_IMAGENET_TEMPLATES

    classes = label_space("imagenet-r").classes[:12]
    predict = load_model("open_clip:ViT-S-32-alt", weights="none", device="cpu", classes=classes, templates="simple")
    assert predict.classnames == [IMAGENET_CLASSNAMES[c.in1k[0]] for c in classes]
    model, tokenizer = predict.module, open_clip.get_tokenizer("ViT-S-32-alt")
    with torch.inference_mode():
        columns = []
        for name in predict.classnames:  # CLIP_benchmark's zero_shot_classifier: mean of normalised prompts, renormalised
            text = model.encode_text(tokenizer([t(name) for t in SIMPLE_IMAGENET_TEMPLATES]))
            mean = (text / text.norm(dim=-1, keepdim=True)).mean(0)
            columns.append(mean / mean.norm())
        head = torch.stack(columns, dim=1)
        _, _, preprocess = open_clip.create_model_and_transforms("ViT-S-32-alt", pretrained=None)
        image = model.encode_image(torch.stack([preprocess(Image.fromarray(i)) for i in IMAGES]))
        by_hand = (100.0 * (image / image.norm(dim=-1, keepdim=True)) @ head).numpy()
    assert np.allclose(predict(IMAGES), by_hand, atol=1e-4)
    assert predict.describe()["zero_shot"] == {"classes": 12, "templates": "simple (7)", "logit_scale": 100.0}
    Path("t.txt").write_text("a sketch of a {}.\na photo of a {}.\n")
    custom = load_model("open_clip:ViT-S-32-alt", weights="none", device="cpu", classes=classes, templates="t.txt")
    assert custom.describe()["zero_shot"]["templates"] == "t.txt"


@pytest.mark.parametrize("spec,kwargs,message", [
    ("tim:resnet18", {}, "unknown source 'tim'"),
    ("timm:", {}, "name the model after 'timm:'"),
    ("timm:resnet_nope", {"weights": "none"}, "timm has no such model"),
    ("timm:resnet18", {}, "its pretrained weights are not in the local cache"),
    ("timm:resnet18", {"weights": "missing.pth"}, "--weights missing.pth: no such file"),
    ("torchvision:resnet18", {}, "its weights ResNet18_Weights.IMAGENET1K_V1 are not in the local cache"),
    ("torchvision:resnet18?weights=NOPE", {}, "valid weights are IMAGENET1K_V1 and DEFAULT"),
    ("torchvision:no_such_net", {}, "torchvision has no such model"),
    ("open_clip:ViT-S-32-alt", {}, "name the weights"),
    ("open_clip:Nope-1", {"weights": "none"}, "open_clip has no architecture 'Nope-1'"),
])  # fmt: skip
def test_bad_specs_are_one_sentence(spec, kwargs, message):
    with pytest.raises(ModelError, match=message.replace("?", r"\?").replace("(", r"\(")):
        load_model(spec, device="cpu", classes=label_space("imagenet-r").classes, **kwargs)


def test_classify_by_name_gives_the_same_results_for_any_worker_count(tmp_path):
    r = label_space("imagenet-r").classes
    src = make_natural(Path("imagenet-r"), {r[0].folder: [(1, 1), (3, 1)], r[1].folder: [(2, 2)]})
    for workers in (1, 2):
        cli("classify", "imagenet-r", "--src", src, "--model", "timm:resnet18", "--weights", "none", "--results",
            f"w{workers}", "--workers", workers, "--quiet")  # fmt: skip
    assert Path("w1/clean.json").read_bytes() == Path("w2/clean.json").read_bytes()
    run = json.loads(Path("w1/run.json").read_text())
    assert run["model_record"]["source"] == "timm" and run["model_record"]["device"] == "cpu"
    bad = cli("classify", "imagenet-r", "--src", src, "--model", "standin_models:colour_coded", "--weights", "none",
              "--results", "x", expect=2)  # fmt: skip
    assert "--weights belongs to a named model" in bad.output


def test_zero_shot_classify_over_a_shifts_classes(tmp_path):
    r = label_space("imagenet-r").classes
    src = make_natural(Path("imagenet-r"), {r[0].folder: [(1, 1)], r[1].folder: [(2, 2)]})
    cli("classify", "imagenet-r", "--src", src, "--model", "open_clip:ViT-S-32-alt", "--weights", "none", "--templates",
        "simple", "--results", "zs", "--quiet")  # fmt: skip
    payload = json.loads(Path("zs/clean.json").read_text())
    assert payload["head"] == "label space" and all(len(v) == 5 and max(v) < 200 for v in payload["top5"].values())
    doc = json.loads(cli("evaluate", "--results", "zs").output and Path("zs/results.json").read_text())
    assert doc["images"] == 2 and 0 <= doc["top-1 accuracy"] <= 100


def test_a_torchvision_detector_gets_coco_c_p_mpc_rpc_with_no_user_code(tmp_path):
    src = make_coco(Path("coco"), n=2)
    cli("detect", "coco", "--on-the-fly", "--src", src, "--corruptions", "fog", "--severities", "1", "--model",
        "torchvision:fasterrcnn_mobilenet_v3_large_320_fpn", "--weights", "none", "--results", "det", "--quiet")  # fmt: skip
    doc = json.loads(cli("evaluate", "--results", "det").output and Path("det/results.json").read_text())
    assert doc["metric"] == "bbox AP" and doc["P"] is not None and "mPC" in doc and "rPC" in doc
    assert json.loads(Path("det/run.json").read_text())["model_record"]["name"] == "fasterrcnn_mobilenet_v3_large_320_fpn"


def test_hf_image_classifier_from_a_saved_folder_with_its_own_processor():
    from transformers import AutoModelForImageClassification, ConvNextImageProcessor, ResNetConfig

    torch.manual_seed(0)
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=1000)
    model = AutoModelForImageClassification.from_config(config)
    processor = ConvNextImageProcessor(size={"shortest_edge": 64}, crop_pct=0.875)
    model.save_pretrained("tiny-resnet")
    processor.save_pretrained("tiny-resnet")
    predict = load_model("hf:tiny-resnet", device="cpu")
    with torch.inference_mode():
        by_hand = model.eval()(pixel_values=processor(images=[Image.fromarray(i) for i in IMAGES], return_tensors="pt")["pixel_values"]).logits
    assert np.allclose(predict(IMAGES), by_hand.numpy(), atol=1e-5)
    assert predict.describe()["preprocessing"]["library"].endswith("ConvNextImageProcessor")
    with pytest.raises(ModelError, match="no image classifier and image processor at 'nowhere/none'"):
        load_model("hf:nowhere/none", device="cpu")


def test_classnames_file_renames_the_prompts():
    classes = label_space("imagenet-r").classes[:3]
    Path("names.txt").write_text("fish\nshark\nhammerhead\n")
    predict = load_model("open_clip:ViT-S-32-alt", weights="none", device="cpu", classes=classes, templates="simple",
                         classnames="names.txt")  # fmt: skip
    assert predict.classnames == ["fish", "shark", "hammerhead"]
    Path("short.txt").write_text("fish\n")
    with pytest.raises(ModelError, match="holds 1 names; the evaluated classes are 3"):
        load_model("open_clip:ViT-S-32-alt", weights="none", device="cpu", classes=classes, classnames="short.txt")
    with pytest.raises(ModelError, match="--classnames names the prompts of a zero-shot model"):
        load_model("timm:resnet18", weights="none", device="cpu", classes=classes, classnames="names.txt")


def test_a_missing_library_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "timm", None)  # as if timm were not installed
    with pytest.raises(ModelError, match=r"needs timm, which is not installed: pip install 'corruptgen\[timm\]'"):
        load_model("timm:resnet18", weights="none", device="cpu")
