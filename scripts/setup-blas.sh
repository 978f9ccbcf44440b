#!/bin/sh
# Installs OpenBLAS (Debian's libopenblas0, 0.3.21 on bookworm), which tive
# loads at start-up for the built-in model's matrix products (package
# harness/internal/gemm). Idempotent: does nothing when the library is there.
# Without it tive falls back to gonum's pure-Go products (about 5x slower),
# and says so in `tive version`. Needs root (or sudo) and the Debian archive.
set -eu
if ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0 '; then
	exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends libopenblas0 ||
	{ $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends libopenblas0; }
ldconfig -p | grep 'libopenblas\.so\.0 ' >&2
