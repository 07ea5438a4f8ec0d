#!/usr/bin/env bash
# The numbers the read tier's adoption is decided on (benches/results/read_tier.md, the rule):
# ALL F1_GT of `varstream eval` on each fitting set (cal_* and calb_* of the calibration
# manifest; never a held-out, depth_* or fresh_* set), called with the default settings, one
# tier and with --read-model MODEL; then the wall time of calb 30x, three alternating runs.
# With REPORT_MANIFEST=path (after the decision), the same table for that manifest's sets.
# Usage: scripts/read_tier_select.sh READ_MODEL.onnx OUTDIR
# Env:   CALIB=work/calib (its manifest.tsv)  THREADS=2  TIMING=1 (0: no wall-time runs)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/release/varstream
MODEL=$1
OUT=$2
CALIB=${CALIB:-$ROOT/work/calib}
MANIFEST=${REPORT_MANIFEST:-$CALIB/manifest.tsv}
T=${THREADS:-2}
mkdir -p "$OUT"
f1gt() { awk '$1=="ALL"{print $NF}' "$1"; }
routed() { sed -n 's/.*read tier: \([0-9]*\) of \([0-9]*\) candidate.*/\1\t\2/p' "$1"; }
printf 'set\tone_tier\ttwo_tiers\trouted\tsites\n' > "$OUT/summary.tsv.tmp"
cd "$ROOT"
while IFS=$'\t' read -r name ref bam truth bed rest; do
  [ -n "${REPORT_MANIFEST:-}" ] || case $name in cal*) ;; *) continue ;; esac
  "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$OUT/$name.one.vcf.gz" -q --threads "$T"
  "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$OUT/$name.two.vcf.gz" --threads "$T" \
    --read-model "$MODEL" 2> "$OUT/$name.two.log"
  for v in one two; do
    "$BIN" eval --truth "$truth" --query "$OUT/$name.$v.vcf.gz" --regions "$bed" --ref "$ref" > "$OUT/$name.$v.eval.txt"
  done
  printf '%s\t%s\t%s\t%s\n' "$name" "$(f1gt "$OUT/$name.one.eval.txt")" "$(f1gt "$OUT/$name.two.eval.txt")" \
    "$(routed "$OUT/$name.two.log")" >> "$OUT/summary.tsv.tmp"
done < <(tail -n +2 "$MANIFEST")
mv "$OUT/summary.tsv.tmp" "$OUT/summary.tsv"
column -t "$OUT/summary.tsv"
[ "${TIMING:-1}" = 1 ] && [ -z "${REPORT_MANIFEST:-}" ] || exit 0
row=$(awk -F'\t' '$1=="calb_grch38_30x"' "$MANIFEST")
IFS=$'\t' read -r name ref bam truth bed rest <<< "$row"
: > "$OUT/timing.tsv"
for k in 1 2 3; do
  for v in one two; do
    extra=(); [ $v = two ] && extra=(--read-model "$MODEL")
    /usr/bin/time -f "$v\t%e\t%U\t%M" -a -o "$OUT/timing.tsv" "$BIN" call --ref "$ref" --reads "$bam" \
      --regions "$bed" --output "$OUT/time.$v.vcf.gz" -q --threads "$T" "${extra[@]}"
  done
done
awk -F'\t' '{w[$1]=w[$1]" "$2} END{for (v in w) print v" wall:"w[v]}' "$OUT/timing.tsv"
