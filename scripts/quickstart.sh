#!/usr/bin/env bash
# The main job on the built-in synthetic data: install, build, then
# synth -> prepare -> train -> eval -> recommend for an example user. About 30 seconds after
# the build on a 2-core machine. Outputs go to ./work/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
T=./build/tessera
W=work/quickstart
mkdir -p "$W"
$T synth --out "$W/synthetic"
$T prepare --input "$W/synthetic/synthetic.txt" --metadata "$W/synthetic/synthetic_items.tsv" --out "$W/synthetic.tsd"
$T train --data "$W/synthetic.tsd" --config configs/sasrec-synthetic.json --out "$W/run"
$T eval --data "$W/synthetic.tsd" --checkpoint "$W/run/best.ckpt" --json "$W/eval.json"
$T recommend --data "$W/synthetic.tsd" --checkpoint "$W/run/best.ckpt" --user 1 --k 10 --exclude-history
