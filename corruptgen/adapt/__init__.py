"""Test-time adaptation as a scoring mode: BN adaptation, TENT and RPL wrapped around a PyTorch model.

Each method is a restatement of its anchor's update (``../shared/research/tta_models.md`` part 1), checked
against a transcription of it in the tests:

- ``bn`` (Schneider, Rusak et al. 2020): with ``bn_prior`` N = 0, every BatchNorm normalises with the test
  batch's statistics (its layers in train mode: tent's ``norm.py``, the common "BN adapt" column); with N > 0,
  with ``prior * source + (1 - prior) * batch`` statistics, ``prior = N / (N + n)`` for batches of n
  (bethgelab/robustness ``robusta/batchnorm/bn.py:172-230``, ``BayesianBatchNorm``; the batch variance
  unbiased, as its momentum-1 layer keeps it);
- ``tent`` (Wang et al. 2021, DequanWang/tent ``tent.py``): the model in train mode, BatchNorm with batch
  statistics and no running ones, only their affine weights and biases trained, to minimise the mean softmax
  entropy; one step per batch (``steps``), Adam (lr 1e-3, betas 0.9 / 0.999) by default; the prediction is
  the forward pass's before the step;
- ``rpl`` (Rusak, Schneider et al. 2021): as ``tent``, the loss the generalised cross-entropy
  ``(1 - p_y^q) / q`` (q = 0.8) of the model's own hard pseudo-labels (``robusta/selflearning/functional.py:24-32``).

A model with no BatchNorm layer (a ViT, or a torchvision detector's ``FrozenBatchNorm2d``) is refused with
one sentence: adapting it would silently change nothing. :meth:`Adaptation.reset` brings back the source
model and a fresh optimiser (tent's ``reset``), which the runner calls as the protocol says.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

METHODS = ("none", "bn", "tent", "rpl")
PROTOCOLS = ("reset", "continual", "episodic")
"""``reset``: a fresh copy of the source model for every corruption x severity cell (tent's CIFAR-10-C script);
``continual``: one model through the cells in the run's order; ``episodic``: reset before every batch."""


class AdaptationError(ValueError):
    """A model or setting adaptation cannot use; the message says why."""


@dataclass(frozen=True)
class Settings:
    method: str = "none"
    protocol: str = "reset"
    bn_prior: int = 0
    optimizer: str = "adam"
    lr: float = 1e-3
    steps: int = 1
    q: float = 0.8

    def describe(self) -> dict:
        doc = asdict(self)
        if self.method != "bn":
            doc.pop("bn_prior")
        if self.method in ("none", "bn"):
            for key in ("optimizer", "lr", "steps", "q"):
                doc.pop(key)
        elif self.method == "tent":
            doc.pop("q")
        return doc


def batchnorms(model):
    import torch.nn as nn

    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class Adaptation:
    """``adaptation(inputs)`` -> the model's outputs on a batch, adapting as ``settings`` say."""

    def __init__(self, model, settings: Settings):
        import torch

        if settings.method not in METHODS[1:]:
            raise AdaptationError(f"unknown adaptation {settings.method!r}; valid ones are {', '.join(METHODS)}.")
        if settings.protocol not in PROTOCOLS:
            raise AdaptationError(f"unknown protocol {settings.protocol!r}; valid ones are {', '.join(PROTOCOLS)}.")
        layers = batchnorms(model)
        if not layers:
            raise AdaptationError(f"--adapt {settings.method}: the model has no BatchNorm layer to adapt (ViTs use LayerNorm; "
                                  "torchvision's detectors FrozenBatchNorm2d); adapting it would change nothing.")  # fmt: skip
        self.model, self.settings, self.layers = model, settings, layers
        if settings.method == "bn":
            self._configure_bn()
            self.optimizer = None
        else:
            self._configure_tent()
            params = [p for layer in layers for p in (layer.weight, layer.bias) if p is not None]
            if not params:
                raise AdaptationError(f"--adapt {settings.method}: the model's BatchNorm layers have no affine weights to train.")
            if settings.optimizer == "adam":
                self.optimizer = torch.optim.Adam(params, lr=settings.lr, betas=(0.9, 0.999), weight_decay=0.0)
            elif settings.optimizer == "sgd":
                self.optimizer = torch.optim.SGD(params, lr=settings.lr, momentum=0.9, dampening=0.0, nesterov=True)
            else:
                raise AdaptationError(f"--optimizer {settings.optimizer}: valid ones are adam and sgd.")
        self._source = (copy.deepcopy(model.state_dict()), copy.deepcopy(self.optimizer.state_dict()) if self.optimizer else None)

    # -- configurations -----------------------------------------------------------------------------

    def _configure_bn(self) -> None:
        self.model.eval()
        prior = self.settings.bn_prior
        for layer in self.layers:
            if prior == 0:
                layer.train()  # batch statistics (tent's norm.py)
            else:
                _prior_forward(layer, prior)

    def _configure_tent(self) -> None:
        # tent.py configure_model: train mode, only BN affine trained, batch statistics, no running ones
        self.model.train()
        self.model.requires_grad_(False)
        for layer in self.layers:
            layer.requires_grad_(True)
            layer.track_running_stats = False
            layer.running_mean = None
            layer.running_var = None

    # -- use ----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the source model and a fresh optimiser state."""
        state, optimizer = self._source
        self.model.load_state_dict(state, strict=True)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(optimizer)

    def __call__(self, inputs):
        import torch

        if self.settings.method == "bn":
            with torch.no_grad():
                return self.model(inputs)
        outputs = None
        for _ in range(self.settings.steps):
            with torch.enable_grad():
                outputs = self.model(inputs)
                loss = self.loss(outputs)
                loss.backward()
                self.optimizer.step()
                self.optimizer.zero_grad()
        return outputs.detach()

    def loss(self, outputs):
        import torch

        if self.settings.method == "tent":
            return -(outputs.softmax(1) * outputs.log_softmax(1)).sum(1).mean(0)
        probs = torch.softmax(outputs, dim=1)
        p_y = probs.gather(1, probs.argmax(1, keepdim=True)).squeeze(1)
        q = self.settings.q
        return ((1 - p_y**q) / q).mean()


def _prior_forward(layer, prior_n: int) -> None:
    """Schneider et al.'s mixture: the layer normalises with ``prior * source + (1 - prior) * batch`` statistics,
    ``prior = N / (N + n)`` for a batch of n (BayesianBatchNorm), the source's running statistics kept."""
    import torch.nn.functional as F

    def forward(x):
        n = x.shape[0]
        prior = float(prior_n) / float(prior_n + n)
        dims = [0, *range(2, x.dim())]
        mean = x.mean(dims)
        var = x.var(dims, unbiased=True)
        running_mean = prior * layer.running_mean + (1 - prior) * mean
        running_var = prior * layer.running_var + (1 - prior) * var
        return F.batch_norm(x, running_mean, running_var, layer.weight, layer.bias, False, 0.0, layer.eps)

    layer.forward = forward


__all__ = ["METHODS", "PROTOCOLS", "Adaptation", "AdaptationError", "Settings", "batchnorms"]
