#!/usr/bin/env bash
# Fashion-MNIST-P: the MLP run.sh trains, on ImageNet-P style perturbation sequences of the 10,000 test digits
# (CIFAR-10-P's parameters, pixel ones scaled to 28 px), scored by flip probability and top-5 distance; mFR and
# mT5D normalised by a softmax regression on the same sequences (AlexNet's role in ImageNet-P).
#   bash examples/fashion_mnist/run_p.sh [WORK_DIR] [REPORT_DIR]
# Needs: pip install ".[examples,video]"; Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-out/fashion-mnist}
REPORT=${2:-docs/robustness/fashion-mnist-p}
SRC=${FASHION_MNIST_SRC:-/usr/share/datasets/fashion-mnist}
[ -f "$SRC/t10k-images-idx3-ubyte.gz" ] || { echo "Fashion-MNIST not found in $SRC: apt-get install dataset-fashion-mnist (or set FASHION_MNIST_SRC)." >&2; exit 1; }
mkdir -p "$WORK"
corruptgen build mnist --perturbations all --src "$SRC" --split test --out "$WORK/fashion_mnist_p" --quiet
[ -f "$WORK/mlp.npz" ] || python examples/fashion_mnist/train.py --src "$SRC" --out "$WORK/mlp.npz"
[ -f "$WORK/linear.npz" ] || python examples/fashion_mnist/train.py --src "$SRC" --out "$WORK/linear.npz" --linear
for model in mlp linear; do
  FASHION_MNIST_WEIGHTS="$WORK/$model.npz" corruptgen classify "$WORK/fashion_mnist_p" \
    --model examples.fashion_mnist.model:load_scores --results "$WORK/results-p-$model" --batch-size 4096 --quiet
done
corruptgen evaluate "$WORK/fashion_mnist_p" --results "$WORK/results-p-linear" --out "$WORK/report-p-linear" > /dev/null
corruptgen evaluate "$WORK/fashion_mnist_p" --results "$WORK/results-p-mlp" --baseline "$WORK/results-p-linear" --out "$REPORT"
