#!/usr/bin/env bash
# Executes every notebook of notebooks/ headlessly with the GoNB kernel that
# scripts/setup-notebooks.sh installs, under one profile:
#
#   scripts/run-notebooks.sh [--profile smoke|quick|full] [--store DIR] [--in-place] [NOTEBOOK...]
#
# Each notebook runs as a copy whose parameters cell (the cell tagged
# "parameters") says profile = "<profile>"; `jupyter nbconvert --execute`
# stops at the first cell that fails, and so does this script (exit 1).
# The executed copies go to .tive/notebooks/executed/<profile>/, each with an
# HTML rendering beside it; --in-place writes them over notebooks/ instead
# (to commit notebooks with outputs). Then, when results/<profile>/ exists,
# every table the notebooks show is compared with it (the Go test
# TestNotebookTables of harness/notebook).
#
# The run store is $TIVE_STORE, --store, or .tive/store: stages it holds are
# not run again, so notebooks after the first reuse what it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
profile=smoke
inplace=false
notebooks=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--profile) profile=$2; shift 2 ;;
	--profile=*) profile=${1#*=}; shift ;;
	--store) export TIVE_STORE=$2; shift 2 ;;
	--store=*) export TIVE_STORE=${1#*=}; shift ;;
	--in-place) inplace=true; shift ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-notebooks.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
	*) notebooks+=("$1"); shift ;;
	esac
done
case $profile in smoke | quick | full) ;; *) echo "run-notebooks.sh: --profile $profile (want smoke, quick or full)" >&2; exit 2 ;; esac
[[ ${#notebooks[@]} -gt 0 ]] || notebooks=(notebooks/*.ipynb)
if [[ -n ${TIVE_STORE:-} ]]; then
	mkdir -p "$TIVE_STORE"
	TIVE_STORE=$(cd "$TIVE_STORE" && pwd)
fi

export JUPYTER_PATH=$root/.tive/notebooks/jupyter JUPYTER_DATA_DIR=$root/.tive/notebooks/jupyter
if [[ ! -f $JUPYTER_DATA_DIR/kernels/gonb/kernel.json || ! -x /usr/bin/jupyter ]]; then
	echo "run-notebooks.sh: no GoNB kernel or Jupyter: run scripts/setup-notebooks.sh first" >&2
	exit 1
fi

out=$root/.tive/notebooks/executed/$profile
work=$(mktemp -d)
copies=()
trap 'rm -rf "$work" "${copies[@]}"' EXIT
mkdir -p "$out"
start=$SECONDS
for src in "${notebooks[@]}"; do
	name=$(basename "$src")
	# The copy lives beside the notebook (Jupyter runs a notebook in its
	# folder, and the notebooks open the checkout as ".."); .gitignore has it.
	copy=$(dirname "$src")/.run-$profile-$name
	copies+=("$copy")
	/usr/bin/python3 - "$src" "$copy" "$profile" <<'EOF'
import re, sys, nbformat
src, dst, profile = sys.argv[1:]
nb = nbformat.read(src, as_version=4)
cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
line = re.compile(r'^(\s*profile\s*=\s*)"[^"]*"', re.M)
if len(cells) != 1 or not line.search(cells[0].source):
    sys.exit(f'{src}: want one cell tagged "parameters" with a line profile = "..."')
cells[0].source = line.sub(lambda m: f'{m.group(1)}"{profile}"', cells[0].source, count=1)
nbformat.write(nb, dst)
EOF
	t0=$SECONDS
	dest=$out
	$inplace && dest=$(cd "$(dirname "$src")" && pwd)
	if ! /usr/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=gonb \
		--ExecutePreprocessor.timeout=-1 --output-dir "$dest" --output "$name" "$copy" >"$work/log" 2>&1; then
		grep -v -e '^0.00s - ' -e 'frozen modules' "$work/log" | tail -40 >&2
		echo "run-notebooks.sh: $src failed (profile $profile)" >&2
		exit 1
	fi
	rm -f "$copy"
	if ! $inplace; then
		/usr/bin/jupyter nbconvert --to html --output-dir "$out" "$out/$name" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
	fi
	echo "run-notebooks.sh: $src ran in $((SECONDS - t0))s -> $dest/$name"
done
echo "run-notebooks.sh: ${#notebooks[@]} notebooks, profile $profile, in $((SECONDS - start))s"

dir=$out
$inplace && dir=$root/notebooks
if [[ -f results/$profile/summary.json ]]; then
	go test -count=1 -run 'TestNotebookTables$' ./harness/notebook -args -notebooks "$dir"
else
	echo "run-notebooks.sh: no results/$profile/: the notebooks' tables are not compared with results"
fi
