#!/usr/bin/env bash
# Face-detection robustness end to end: compose the COCO set, build its -C version, run the
# cascade on clean + 15 x 5 cells, score P / mPC / rPC, and write the HTML report (WORK_DIR/faces-c.html).
#   bash examples/faces/run.sh [WORK_DIR] [REPORT_DIR]          (needs: pip install ".[examples]")
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-out/faces}
REPORT=${2:-docs/robustness/faces}
[ -f "$WORK/faces/annotations/instances_val.json" ] || python examples/faces/make_coco.py --out "$WORK/faces"
corruptgen build coco --src "$WORK/faces" --split val --out "$WORK/faces-c" --quiet
corruptgen detect "$WORK/faces-c" --model examples.faces.detector:load --results "$WORK/results" --quiet
corruptgen evaluate "$WORK/faces-c" --results "$WORK/results" --out "$REPORT"
corruptgen report "$WORK/faces-c" --results "$REPORT" --out "$WORK/faces-c.html"
