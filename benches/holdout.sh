#!/usr/bin/env bash
# End-to-end accuracy of the shipped model on simulated reads from regions no training set
# covers (scripts/simulate_training.sh --holdout), next to bcftools on the same reads.
# Complements the real-data dev window.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=target/release/varstream
H=work/holdout
[ -s "$H/manifest.tsv" ] || bash scripts/simulate_training.sh --holdout "$H"
tail -n +2 "$H/manifest.tsv" | while IFS=$'\t' read -r name ref bam truth bed depth build sample; do
  out="$H/$name.calls.vcf.gz"
  "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$out" -q
  echo "## $name ($build, ${depth}x, $(awk '{s+=$3-$2} END{print s}' "$bed") bp): varstream eval"
  "$BIN" eval --truth "$truth" --query "$out" --regions "$bed" --ref "$ref"
  if command -v bcftools >/dev/null; then
    bout="$H/$name.bcftools.vcf.gz"
    bcftools mpileup -f "$ref" -R "$bed" -Ou "$bam" 2>/dev/null | bcftools call -mv -Oz -o "$bout" 2>/dev/null
    echo "## $name: bcftools $(bcftools --version | head -1 | cut -d' ' -f2) mpileup | call -mv, same reads: varstream eval"
    "$BIN" eval --truth "$truth" --query "$bout" --regions "$bed" --ref "$ref"
  fi
done
