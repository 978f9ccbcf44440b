#!/usr/bin/env bash
# The main job (README): fetch the pinned art, build tive, run the main study
# on the built-in world through the run store (.tive/store); tive run ends
# with the result table and the paths of its table and plot files.
#   scripts/main.sh [--profile NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh
scripts/setup-blas.sh || echo "main.sh: OpenBLAS unavailable; the model runs on gonum's pure-Go products" >&2
mkdir -p bin
go build -o bin/tive ./cmd/tive
bin/tive run experiments/world-recipe.yaml "$@"
