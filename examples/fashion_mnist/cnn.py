"""A small CNN with BatchNorm for Fashion-MNIST, trained here on the CPU: the model of the test-time
adaptation example (``run_tta.sh``).

    python examples/fashion_mnist/cnn.py --src /usr/share/datasets/fashion-mnist --out cnn.pt   # train (about 2 min)
    corruptgen classify TREE --model examples.fashion_mnist.cnn:load --adapt tent ...             # FASHION_MNIST_CNN=cnn.pt

``load()`` returns the ``torch.nn.Module``; corruptgen feeds a factory's module N x 3 x 28 x 28 float tensors in
0-1 and adapts its BatchNorm layers with ``--adapt``. The module averages the three channels back to grey.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )  # fmt: skip
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        if x.shape[1] == 3:
            x = x.mean(dim=1, keepdim=True)
        return self.head(self.features(x).flatten(1))


def load() -> nn.Module:
    model = FashionCNN()
    model.load_state_dict(torch.load(os.environ.get("FASHION_MNIST_CNN", "fashion-mnist-cnn.pt"), weights_only=True))
    return model.eval()


def main() -> None:
    from corruptgen.datasets.mnist import find_idx, read_idx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.from_numpy(read_idx(find_idx(args.src, "train-images-idx3-ubyte"), 3).astype(np.float32) / 255)[:, None]
    labels = torch.from_numpy(read_idx(find_idx(args.src, "train-labels-idx1-ubyte"), 1).astype(np.int64))
    model = FashionCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    started = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        order = torch.randperm(len(images))
        for i in range(0, len(images), 128):
            batch = order[i : i + 128]
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f} ({time.perf_counter() - started:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
