#!/usr/bin/env bash
# The demo: reads of a small simulated diploid genome (real GRCh38 chr20 sequence with real
# HG002 genotypes, far from the evaluation window), called with the shipped model and scored
# against the variants that were put into the genome.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEMO=work/demo
BIN=target/release/varstream
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
