#!/usr/bin/env bash
# The demo: reads of a small simulated diploid genome (real GRCh38 chr20 sequence with real
# HG002 genotypes, from the slice committed in data/demo/, far from the evaluation window),
# called with the shipped model and scored against the variants that were put into the genome.
# Needs no ../shared.
# Usage: scripts/demo.sh            simulate (once, into work/demo), call, report, evaluate
#        scripts/demo.sh --check    only check the tools and data it needs (`make demo` runs
#                                   this before the release build, so a missing tool fails
#                                   in seconds, not after the build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEMO=work/demo
BIN=target/release/varstream

die() { echo "demo: ERROR: $*" >&2; exit 1; }

check_inputs() {
  local missing=() tool
  # The tools scripts/simulate_training.sh --tiny calls, and the Debian packages holding them.
  for tool in samtools:samtools bcftools:bcftools bgzip:tabix tabix:tabix bwa:bwa \
              art_illumina:art-nextgen-simulation-tools python3:python3 md5sum:coreutils; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool%%:*} (Debian package ${tool#*:})")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]}; run scripts/setup.sh (as root or with sudo) or install them"
  [ -s data/demo/MD5SUMS ] || die "data/demo/MD5SUMS not found: the demo slice is missing from this checkout"
  (cd data/demo && md5sum --quiet -c MD5SUMS) >&2 \
    || die "data/demo does not match data/demo/MD5SUMS (restore it with: git checkout -- data/demo)"
  mkdir -p "$DEMO" && [ -w "$DEMO" ] || die "cannot write to $ROOT/$DEMO"
}

check_inputs
if [ "${1:-}" = --check ]; then
  echo "demo: tools and data/demo present" >&2
  exit 0
fi
[ -x "$BIN" ] || die "$BIN not found: build it first (cargo build --release; \`make demo\` does)"
if [ ! -s "$DEMO/manifest.tsv" ]; then
  bash scripts/simulate_tiny.sh "$DEMO"
fi
IFS=$'\t' read -r name ref bam truth bed depth build sample < <(tail -n +2 "$DEMO/manifest.tsv" | head -1)
out="$DEMO/$name.calls.vcf.gz"
"$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$out" --sample "$sample" --report
echo
echo "VCF: $ROOT/$out (index: $ROOT/$out.tbi)"
echo "Report: $ROOT/${out%.vcf.gz}.report.html (and .report.json)"
echo "Accuracy against the simulated truth ($truth) inside $bed:"
"$BIN" eval --truth "$truth" --query "$out" --regions "$bed" --ref "$ref"
