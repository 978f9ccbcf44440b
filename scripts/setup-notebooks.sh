#!/usr/bin/env bash
# Installs what the notebooks (notebooks/*.ipynb) need, from the project's own
# files, and is harmless to run again:
#  - Debian's Jupyter (jupyter-client, python3-nbclient, jupyter-nbconvert,
#    python3-ipykernel, jupyter-notebook) through apt, when /usr/bin/jupyter
#    lacks nbconvert; needs root (or sudo) and apt;
#  - the GoNB kernel and goimports (which GoNB runs on every cell), built from
#    the versions pinned in tools/notebooks/go.mod into .tive/notebooks/bin;
#  - the kernelspec "gonb" in the project-local Jupyter data folder
#    .tive/notebooks/jupyter (JUPYTER_DATA_DIR / JUPYTER_PATH point there, see
#    scripts/run-notebooks.sh). The kernel compiles each cell in a Go
#    workspace with the project's module and tools/notebooks (gonbui, and
#    nbui.Show, how every notebook displays its tables and plots), so a
#    notebook imports github.com/tive-dev/tive/... as the checkout has it.
# GoNB runs without gopls (it only serves auto-completion), so none is built.
#
# Exit status: 0 when everything is in place; 2 when Jupyter is missing and
# cannot be installed here (no apt, or neither root nor sudo): the caller
# decides whether that is fatal; 1 on any other failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nb=$root/.tive/notebooks

have_jupyter() {
	[[ -x /usr/bin/jupyter ]] && /usr/bin/jupyter nbconvert --version >/dev/null 2>&1 &&
		/usr/bin/python3 -c 'import nbclient, nbformat, ipykernel, notebook' >/dev/null 2>&1
}

if ! have_jupyter; then
	pkgs=(jupyter-client python3-nbclient jupyter-nbconvert python3-ipykernel jupyter-notebook)
	if ! command -v apt-get >/dev/null; then
		echo "setup-notebooks.sh: no apt-get: install Jupyter with nbconvert (Debian: ${pkgs[*]})" >&2
		exit 2
	fi
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
			echo "setup-notebooks.sh: not root and no password-less sudo: run as root, or: apt-get install ${pkgs[*]}" >&2
			exit 2
		fi
		sudo=(sudo -n)
	fi
	echo "setup-notebooks.sh: installing ${pkgs[*]} (apt)" >&2
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
	have_jupyter || { echo "setup-notebooks.sh: apt installed ${pkgs[*]} but jupyter nbconvert does not run" >&2; exit 1; }
fi

# GoNB and goimports at the versions of tools/notebooks/go.mod ("go tool"
# would build them too, but Jupyter needs a binary path in the kernelspec).
mkdir -p "$nb/bin"
(cd tools/notebooks && go build -o "$nb/bin/" github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports)

# The kernelspec, written whole each time (the same bytes for the same checkout).
kdir=$nb/jupyter/kernels/gonb
mkdir -p "$kdir" "$nb/logs"
cat >"$kdir/kernel.json.tmp" <<EOF
{
  "argv": ["$nb/bin/gonb", "--kernel", "{connection_file}", "--raw_error", "--go_work=$root,$root/tools/notebooks", "--logtostderr=false", "--stderrthreshold=FATAL", "--log_dir=$nb/logs"],
  "display_name": "Go (gonb, tive)",
  "language": "go",
  "interrupt_mode": "message",
  "env": {"PATH": "$nb/bin:\${PATH}"}
}
EOF
mv "$kdir/kernel.json.tmp" "$kdir/kernel.json"
echo "setup-notebooks.sh: kernel gonb ($(cd tools/notebooks && go list -m -f '{{.Path}} {{.Version}}' github.com/janpfeifer/gonb)) in $kdir"
