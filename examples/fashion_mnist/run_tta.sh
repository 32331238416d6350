#!/usr/bin/env bash
# Test-time adaptation on Fashion-MNIST-C: a small CNN with BatchNorm, trained here, scored as the source model
# and with BN adaptation, TENT and RPL (protocol reset, batch 200, the stream shuffled with seed 0), side by side.
#   bash examples/fashion_mnist/run_tta.sh [WORK_DIR] [REPORT_DIR]
# Needs: pip install ".[torch]"; Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-out/fashion-mnist}
REPORT=${2:-docs/robustness/fashion-mnist-tta}
SRC=${FASHION_MNIST_SRC:-/usr/share/datasets/fashion-mnist}
[ -f "$SRC/t10k-images-idx3-ubyte.gz" ] || { echo "Fashion-MNIST not found in $SRC: apt-get install dataset-fashion-mnist (or set FASHION_MNIST_SRC)." >&2; exit 1; }
mkdir -p "$WORK"
[ -f "$WORK/cnn.pt" ] || python examples/fashion_mnist/cnn.py --src "$SRC" --out "$WORK/cnn.pt"
# the 15 benchmark corruptions at severity 5 (the TTA tables' column), the test split
corruptgen build mnist --src "$SRC" --split test --out "$WORK/fashion_mnist_c5" --severities 5 --quiet
export FASHION_MNIST_CNN="$WORK/cnn.pt"
run() { corruptgen classify "$WORK/fashion_mnist_c5" --model examples.fashion_mnist.cnn:load --batch-size 200 --quiet "$@"; }
run --results "$WORK/tta-source"
run --results "$WORK/tta-bn" --adapt bn
run --results "$WORK/tta-tent" --adapt tent
run --results "$WORK/tta-rpl" --adapt rpl
corruptgen evaluate "$WORK/fashion_mnist_c5" --results "$WORK/tta-source" --results "$WORK/tta-bn" \
  --results "$WORK/tta-tent" --results "$WORK/tta-rpl" --out "$REPORT"
