#!/usr/bin/env bash
# The project's test command (README): installs what the tests need from the
# project's own files, then vets and tests every package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh
go vet ./...
go test -count=1 ./...
