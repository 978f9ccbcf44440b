#!/usr/bin/env bash
# The project's test command (README): installs what the tests need from the
# project's own files, then vets and tests every package.
#  - the pinned emoji art (npm registry), for the built-in world's tests;
#  - Debian's OpenBLAS, for the model's matrix products (scripts/setup-blas.sh);
#    the tests then run on it, and a CGO_ENABLED=0 run checks the pure-Go
#    build as well;
#  - Debian's python3-torch, for the PyTorch worker's model-independent tests;
#  - a single-node Slurm (Debian's slurmctld, slurmd, munge), for the job-array tests;
#  - Debian's Jupyter and the GoNB kernel, for the notebooks, which then run on
#    the smoke profile (scripts/run-notebooks.sh): a failing cell fails the run.
# Those three need root and apt; without them their tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh
scripts/setup-blas.sh || echo "test.sh: OpenBLAS unavailable; the model runs on gonum's pure-Go products" >&2
scripts/setup-worker.sh || echo "test.sh: python3-torch unavailable; the PyTorch worker tests will skip" >&2
scripts/slurm-local.sh >/dev/null || echo "test.sh: no local Slurm; the Slurm tests will skip" >&2
go vet ./...
go run ./cmd/tive version
go test -count=1 ./...
CGO_ENABLED=0 go test -count=1 ./...
rc=0
scripts/setup-notebooks.sh || rc=$?
case $rc in
0) scripts/run-notebooks.sh --profile smoke ;;
2) echo "test.sh: no apt or no root to install Jupyter; the notebooks did not run" >&2 ;;
*) exit "$rc" ;;
esac
