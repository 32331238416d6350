"""``timm:NAME``: ``timm.create_model``, preprocessed by timm's own resolved data config."""

from __future__ import annotations

from pathlib import Path

from .base import ModelError, Predictor, offline, pick_device, seeded_random_init


def load(name: str, *, weights=None, device=None, precision="fp32", classes=None, templates=None) -> Predictor:
    offline()
    import timm
    from timm.data import create_transform, resolve_model_data_config

    device = pick_device(device)
    try:
        if weights == "none":
            seeded_random_init()
            model = timm.create_model(name, pretrained=False)
        elif weights:
            if not Path(weights).is_file():
                raise ModelError(f"--weights {weights}: no such file; give timm's checkpoint for {name} (.pth or .safetensors).")
            model = timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": str(weights)})
        else:
            model = timm.create_model(name, pretrained=True)
    except ModelError:
        raise
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            raise ModelError(f"--model timm:{name}: timm has no such model (timm.list_models() names them).") from None
        raise _missing(name) from exc
    except (OSError, ValueError) as exc:  # no cached weights (offline), or a name timm refuses
        if isinstance(exc, ValueError) and "hf-hub" in str(exc):
            raise ModelError(f"--model timm:{name}: {exc}") from None
        raise _missing(name) from exc
    config = resolve_model_data_config(model)
    record = {"source": "timm", "name": name, "weights": {"none": "none (random, seed 0)", None: "timm's cache"}.get(weights, weights), "preprocessing": {
        "library": f"timm {timm.__version__} resolve_model_data_config + create_transform", **_jsonable(config)}}
    return Predictor(model, create_transform(**config), device, precision, record)


def _missing(name: str) -> ModelError:
    return ModelError(f"--model timm:{name}: its pretrained weights are not in the local cache ($HF_HOME/hub); download "
                      f"them once where there is a network (python -c \"import timm; timm.create_model('{name}', "
                      "pretrained=True)\"), pass --weights FILE, or set CORRUPTGEN_ALLOW_DOWNLOADS=1.")


def _jsonable(config: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}
