"""Train a small classifier on clean Fashion-MNIST and save its weights as .npz.

A one-hidden-layer perceptron (784 -> 256 -> 10, ReLU) from scikit-learn, trained on the 60,000
clean training images; ``model.py`` runs it with NumPy alone. ``--linear``: a softmax regression
instead (784 -> 10), the weaker reference model Fashion-MNIST-P's flip rates are normalised by (the
role AlexNet plays for ImageNet-P).

    python examples/fashion_mnist/train.py --src /usr/share/datasets/fashion-mnist --out weights.npz
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from corruptgen.datasets.mnist import find_idx, read_idx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--linear", action="store_true", help="A softmax regression (784 -> 10) instead of the MLP.")
    args = parser.parse_args()
    images = read_idx(find_idx(args.src, "train-images-idx3-ubyte"), 3).reshape(-1, 784).astype(np.float32) / 255
    labels = read_idx(find_idx(args.src, "train-labels-idx1-ubyte"), 1)
    started = time.perf_counter()
    if args.linear:
        linear = LogisticRegression(max_iter=10 * args.epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            linear.fit(images, labels)
        print(f"trained on {len(images)} clean images in {time.perf_counter() - started:.0f} s; "
              f"training accuracy {linear.score(images, labels):.3f}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.out, w=linear.coef_.T, b=linear.intercept_)
        return
    mlp = MLPClassifier(hidden_layer_sizes=(256,), max_iter=args.epochs, batch_size=256, random_state=0, tol=0)
    with warnings.catch_warnings():  # a fixed number of epochs is the point, not convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(images, labels)
    print(f"trained on {len(images)} clean images in {time.perf_counter() - started:.0f} s; "
          f"training accuracy {mlp.score(images, labels):.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, w1=mlp.coefs_[0], b1=mlp.intercepts_[0], w2=mlp.coefs_[1], b2=mlp.intercepts_[1])


if __name__ == "__main__":
    main()
