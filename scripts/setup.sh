#!/usr/bin/env bash
# Installs what varstream needs on a fresh Debian machine, skipping what is already there:
#   - Debian packages: libclang (bindgen for rust-htslib), compression headers for the vendored
#     htslib, and the tools the demo, tests and benchmarks call (samtools, bcftools, tabix, bwa,
#     ART, vcflib, plink2, sqlite3);
#   - headless Chromium, which the report test renders the HTML report in;
#   - a project-local Python venv .venv with the PyPI onnxruntime wheel, whose
#     libonnxruntime.so the binary loads at run time, and the small packages tests use:
#     onnx (builds a risk model at test time) and jsonschema (validates the report JSON).
# Usage: scripts/setup.sh            (idempotent; uses sudo when not root)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ORT_VERSION=1.31.1
PKGS=(libclang-dev clang pkg-config zlib1g-dev libbz2-dev liblzma-dev
      samtools bcftools tabix bwa art-nextgen-simulation-tools libvcflib-tools plink2 sqlite3
      chromium)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! python3 -m venv --help >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }

lib() { ls "$ROOT"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so."$ORT_VERSION" 2>/dev/null | head -1; }
if [ -z "$(lib)" ]; then
  echo "setup: creating .venv with onnxruntime==$ORT_VERSION" >&2
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" numpy
fi
[ -n "$(lib)" ] || { echo "setup: libonnxruntime.so.$ORT_VERSION not found in .venv" >&2; exit 1; }
# Test-only packages, pinned; added to an existing .venv too.
TEST_PINS=("onnx==1.23.2" "jsonschema==4.26.0")
if ! "$ROOT/.venv/bin/python" -c 'import onnx, jsonschema' 2>/dev/null; then
  echo "setup: installing ${TEST_PINS[*]} into .venv" >&2
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check "${TEST_PINS[@]}"
fi
echo "setup: ok (ONNX Runtime: $(lib))" >&2
