#!/usr/bin/env bash
# Create (or repair) the model-training virtualenv at .venv-train.
#
# NOT part of CI: torch is a multi-GB download and must stay out of CI.
# The runtime venv (.venv, onnxruntime + numpy) is separate.
#
# Idempotent: if .venv-train already holds exactly the pinned versions it
# does nothing; otherwise it (re)installs the pins.
#
# Usage: scripts/setup_train_env.sh            # from anywhere in the repo
#        PYTHON=python3.11 scripts/setup_train_env.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-train"
PYTHON="${PYTHON:-python3}"

TORCH_PIN="torch==2.15.0"
ONNX_PIN="onnx==1.23.2"
PINS=("$TORCH_PIN" "$ONNX_PIN" "numpy")

check_pins() {
    "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as md, sys
want = {"torch": "2.15.0", "onnx": "1.23.2"}
for pkg, ver in want.items():
    try:
        got = md.version(pkg)
    except md.PackageNotFoundError:
        sys.exit(1)
    # torch wheels may carry a local tag (2.15.0+cpu); compare the public part
    if got.split("+")[0] != ver:
        sys.exit(1)
md.version("numpy")
import torch, onnx, numpy  # noqa: F401  (a broken install fails here)
EOF
}

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if check_pins; then
    echo "$VENV already has ${PINS[*]}: nothing to do"
    exit 0
fi

echo "installing ${PINS[*]} into $VENV (torch is a large download)"
"$VENV/bin/python" -m pip install --upgrade --quiet pip
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}"

if ! check_pins; then
    echo "error: $VENV does not hold ${PINS[*]} after install" >&2
    exit 1
fi
"$VENV/bin/python" -c 'import torch, onnx, numpy; print("torch", torch.__version__, "onnx", onnx.__version__, "numpy", numpy.__version__)'
