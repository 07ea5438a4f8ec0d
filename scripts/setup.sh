#!/usr/bin/env bash
# Installs what varstream needs on a fresh Debian machine, skipping what is already there:
#   - Debian packages: libclang (bindgen for rust-htslib), compression headers for the vendored
#     htslib, and the tools the demo, tests and benchmarks call (samtools, bcftools, tabix, bwa,
#     ART, vcflib, plink2, sqlite3, minimap2, freebayes);
#   - headless Chromium, which the report test renders the HTML report in;
#   - a project-local Python venv .venv with the PyPI onnxruntime wheel, whose
#     libonnxruntime.so the binary loads at run time, and the small packages tests use:
#     onnx (builds a risk model at test time) and jsonschema (validates the report JSON).
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
# What each group is for (printed before apt runs, so a minute of apt is not a silent minute).
BUILD_PKGS=(libclang-dev clang pkg-config zlib1g-dev libbz2-dev liblzma-dev)
DEMO_PKGS=(samtools bcftools tabix bwa art-nextgen-simulation-tools)
TEST_PKGS=(libvcflib-tools plink2 sqlite3 minimap2 freebayes chromium)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
missing_of() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t miss_build < <(missing_of "${BUILD_PKGS[@]}")
mapfile -t miss_demo < <(missing_of "${DEMO_PKGS[@]}")
mapfile -t miss_test < <(missing_of "${TEST_PKGS[@]}")
if ! python3 -m venv --help >/dev/null 2>&1; then miss_build+=(python3-venv); fi
missing=("${miss_build[@]}" "${miss_demo[@]}" "${miss_test[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} missing Debian package(s) with apt-get, with their dependencies:" >&2
  [ ${#miss_build[@]} -eq 0 ] || echo "setup:   to build (rust-htslib's bindgen and vendored htslib; python3-venv for ONNX Runtime): ${miss_build[*]}" >&2
  [ ${#miss_demo[@]} -eq 0 ] || echo "setup:   to simulate and align the demo's reads: ${miss_demo[*]}" >&2
  [ ${#miss_test[@]} -eq 0 ] || echo "setup:   for the tests' cross-checks (vcflib, plink2, sqlite3; minimap2 aligns long reads as users do; freebayes writes a VCF as users have; chromium renders the report): ${miss_test[*]}" >&2
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: not root and no sudo: install them as root (apt-get install ${missing[*]}) and run make again" >&2
    exit 1
  fi
  log=$(mktemp "${TMPDIR:-/tmp}/varstream-apt.XXXXXX")
  t0=$(date +%s)
  echo "setup: apt-get update (package lists; usually 10-30 s) ..." >&2
  $SUDO apt-get update -q > "$log" 2>&1 || { cat "$log" >&2; echo "setup: apt-get update failed (full log: $log)" >&2; exit 1; }
  echo "setup: apt-get install (one line per package fetched, then per package set up) ..." >&2
  # Full output to the log; on the terminal only the packages as apt fetches and sets them up.
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1 \
      | tee -a "$log" | awk '/^Get:/{print "setup:   fetched " $5; fflush()} /^Setting up /{print "setup:   set up " $3; fflush()}' >&2; then
    tail -n 30 "$log" >&2
    echo "setup: apt-get install failed (full log: $log)" >&2
    exit 1
  fi
  echo "setup: apt packages installed in $(( $(date +%s) - t0 )) s" >&2
  rm -f "$log"
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }

lib() { ls "$ROOT"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so."$ORT_VERSION" 2>/dev/null | head -1; }
if [ -z "$(lib)" ]; then
  echo "setup: creating .venv with onnxruntime==$ORT_VERSION and numpy from PyPI (about 50 MB; 10-60 s) ..." >&2
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" numpy
fi
[ -n "$(lib)" ] || { echo "setup: libonnxruntime.so.$ORT_VERSION not found in .venv" >&2; exit 1; }
# Test-only packages, pinned; added to an existing .venv too.
TEST_PINS=("onnx==1.23.2" "jsonschema==4.26.0")
if ! "$ROOT/.venv/bin/python" -c 'import onnx, jsonschema' 2>/dev/null; then
  echo "setup: installing ${TEST_PINS[*]} into .venv" >&2
  "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check "${TEST_PINS[@]}"
fi
echo "setup: ok (ONNX Runtime: $(lib))" >&2
