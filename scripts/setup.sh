#!/usr/bin/env bash
# Installs what varstream needs on a fresh Debian machine, skipping what is already there:
#   - Debian packages: libclang (bindgen for rust-htslib), compression headers for the vendored
#     htslib, and the tools the demo, tests and benchmarks call (samtools, bcftools, tabix, bwa,
#     ART, vcflib, plink2, sqlite3);
#   - a project-local Python venv .venv with the PyPI onnxruntime wheel, whose
#     libonnxruntime.so the binary loads at run time.
# Usage: scripts/setup.sh            (idempotent; uses sudo when not root)
#        scripts/setup.sh workflows  only Snakemake and MultiQC into the existing .venv, for
#                                    workflows/ and their tests (about 2 minutes of downloads
#                                    on a fresh venv: MultiQC brings plotly, polars, pyarrow
#                                    and kaleido); `make test` runs it beside the build.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ORT_VERSION=1.31.1
SNAKEMAKE_VERSION=9.27.1
MULTIQC_VERSION=1.35

if [ "${1:-}" = workflows ]; then
  [ -x "$ROOT/.venv/bin/python" ] || { echo "setup: no .venv yet: run scripts/setup.sh first" >&2; exit 1; }
  # PyPI, not Debian: Debian 12's snakemake 7.21 pulls 81 packages (about 6 minutes of apt
  # here), PyPI's 9.x installs in under a minute; Debian's multiqc is 1.14.
  want=()
  "$ROOT/.venv/bin/snakemake" --version 2>/dev/null | grep -qx "$SNAKEMAKE_VERSION" \
    || want+=("snakemake==$SNAKEMAKE_VERSION")
  "$ROOT/.venv/bin/multiqc" --version 2>/dev/null | grep -q "version $MULTIQC_VERSION\$" \
    || want+=("multiqc==$MULTIQC_VERSION")
  if [ ${#want[@]} -gt 0 ]; then
    echo "setup: installing ${want[*]} into .venv" >&2
    "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --no-compile "${want[@]}"
  fi
  echo "setup: ok (snakemake $("$ROOT/.venv/bin/snakemake" --version), $("$ROOT/.venv/bin/multiqc" --version))" >&2
  exit 0
fi
PKGS=(libclang-dev clang pkg-config zlib1g-dev libbz2-dev liblzma-dev
      samtools bcftools tabix bwa art-nextgen-simulation-tools libvcflib-tools plink2 sqlite3)

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
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" numpy
fi
[ -n "$(lib)" ] || { echo "setup: libonnxruntime.so.$ORT_VERSION not found in .venv" >&2; exit 1; }
echo "setup: ok (ONNX Runtime: $(lib))" >&2
