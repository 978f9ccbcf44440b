#!/usr/bin/env bash
# Benchmarks TIVE selection at real scale (issue: N = 665,000 records,
# d = 8192 float16 features, 10.9 GB) against a plain sequential read of the
# same file in the same run, then times `tive select` end to end with peak RSS.
#   scripts/bench-select.sh            # pool in $TIVE_BENCH_DIR or /tmp/tive-bench
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TIVE_BENCH_DIR:-/tmp/tive-bench}
if [ ! -f "$dir/features.npy" ]; then
  echo "generating the benchmark pool in $dir (about 11 GB)" >&2
  go run ./scripts/genfeatures -n 665000 -d 8192 -out "$dir"
fi
TIVE_BENCH_DIR=$dir go test -run '^$' -bench 'TIVE665K' -benchtime 1x -count "${COUNT:-3}" ./harness/selection/
go build -o "$dir/tive" ./cmd/tive
/usr/bin/time -f 'tive select: %e s wall, %M KiB peak RSS' "$dir/tive" select --method tive \
  --records "$dir/records.jsonl" --features "$dir/features.npy" --norms "$dir/norms.npy" \
  --budget 0.15 --exclude textcaps --seed 0 --out "$dir/subset.json" --scores "$dir/scores.jsonl" >/dev/null
