#!/usr/bin/env bash
# Fashion-MNIST under MNIST-C's suite (15 corruptions at MNIST-C's one setting each, plus its identity):
# build it in MNIST-C's release layout, run the classifier run.sh trains, score it.
#   bash examples/fashion_mnist/run_mnist_c.sh [WORK_DIR] [REPORT_DIR]
# Needs: pip install ".[examples]"; Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-out/fashion-mnist}
REPORT=${2:-docs/robustness/fashion-mnist-c}
SRC=${FASHION_MNIST_SRC:-/usr/share/datasets/fashion-mnist}
[ -f "$SRC/t10k-images-idx3-ubyte.gz" ] || { echo "Fashion-MNIST not found in $SRC: apt-get install dataset-fashion-mnist (or set FASHION_MNIST_SRC)." >&2; exit 1; }
mkdir -p "$WORK"
corruptgen build mnist --profile mnist-c --src "$SRC" --split test --out "$WORK/fashion_mnist_c" --quiet
[ -f "$WORK/mlp.npz" ] || python examples/fashion_mnist/train.py --src "$SRC" --out "$WORK/mlp.npz"
FASHION_MNIST_WEIGHTS="$WORK/mlp.npz" corruptgen classify "$WORK/fashion_mnist_c" \
  --model examples.fashion_mnist.model:load --results "$WORK/results-mnist-c" --batch-size 1000 --quiet
corruptgen evaluate "$WORK/fashion_mnist_c" --results "$WORK/results-mnist-c" --out "$REPORT"
