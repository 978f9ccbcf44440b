#!/bin/sh
# Installs what the PyTorch worker's model-independent tests need: Debian's
# python3-torch (1.13, with python3-numpy) for /usr/bin/python3. Idempotent:
# does nothing when /usr/bin/python3 already imports torch. transformers and
# peft (the LLaVA path) are not Debian packages; the GPU machine has them.
# Needs root (or sudo) and the Debian archive.
set -eu
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
	exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends python3-torch python3-numpy ||
	{ $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends python3-torch python3-numpy; }
/usr/bin/python3 -c 'import torch; print("setup-worker: torch", torch.__version__)'
