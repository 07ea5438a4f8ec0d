#!/usr/bin/env bash
# The numbers the low-depth model choice is made on (issue 13; docs/models.md), for one
# model: ALL F1_GT of `varstream eval` on
#   - the cal_* sets (HG002 GRCh38 chr20:4.9-5.5 Mb at 6x/10x/15x/30x/60x, in no training set),
#     called with --no-calibration (the calibration is a power of the posteriors: it moves
#     no genotype, so these F1_GT are those after any re-fit), and the calibration re-fitted
#     on those calls and on the calb_* sets of scripts/calibration_sets.sh
#     (scripts/calibrate.py fit -> OUT/calibration.json);
#   - the held-out 20x, 35x and 55x sets (benches/holdout.sh), whose sum is the project rule.
# Never the depth_* sets (only reported, benches/depths.sh) nor chr20:9.9-10.2 Mb (GRCh37).
#
# Usage: scripts/lowdepth_select.sh MODEL.onnx OUTDIR
# Env:   DEPTHS=work/depths  HOLDOUT=work/holdout  CALIB=work/calib  (their manifest.tsv; read
#        only; CALIB's holds the cal_* rows too, and is used when present)
#        THREADS=1
# Output: OUTDIR/*.eval.txt, OUTDIR/calibration.json, OUTDIR/summary.tsv (set, ALL F1_GT).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/release/varstream
MODEL=$1
OUT=$2
DEPTHS=${DEPTHS:-$ROOT/work/depths}
HOLDOUT=${HOLDOUT:-$ROOT/work/holdout}
CALIB=${CALIB:-$ROOT/work/calib}
FIT_MANIFEST=$DEPTHS/manifest.tsv
[ -s "$CALIB/manifest.tsv" ] && FIT_MANIFEST=$CALIB/manifest.tsv
T=${THREADS:-1}
mkdir -p "$OUT/raw"
: > "$OUT/summary.tsv.tmp"
f1gt() { awk '$1=="ALL"{print $NF}' "$1"; }
while IFS=$'\t' read -r name ref bam truth bed rest; do
  case $name in cal*) ;; *) continue ;; esac
  "$BIN" call --model "$MODEL" --ref "$ref" --reads "$bam" --regions "$bed" \
    --output "$OUT/raw/$name.vcf.gz" --no-calibration --min-qual 0 -q --threads "$T"
  "$BIN" eval --truth "$truth" --query "$OUT/raw/$name.vcf.gz" --regions "$bed" --ref "$ref" > "$OUT/$name.eval.txt"
  printf '%s\t%s\n' "$name" "$(f1gt "$OUT/$name.eval.txt")" >> "$OUT/summary.tsv.tmp"
done < <(tail -n +2 "$FIT_MANIFEST")
python3 "$ROOT/scripts/calibrate.py" fit "$FIT_MANIFEST" "$OUT/raw" > "$OUT/calibration.json" 2> "$OUT/calibration.log"
while IFS=$'\t' read -r name ref bam truth bed rest; do
  case $name in holdout_grch38|holdout_grch38_20x|holdout_grch38_55x) ;; *) continue ;; esac
  "$BIN" call --model "$MODEL" --ref "$ref" --reads "$bam" --regions "$bed" \
    --output "$OUT/$name.vcf.gz" --min-qual 0 -q --threads "$T"
  "$BIN" eval --truth "$truth" --query "$OUT/$name.vcf.gz" --regions "$bed" --ref "$ref" > "$OUT/$name.eval.txt"
  printf '%s\t%s\n' "$name" "$(f1gt "$OUT/$name.eval.txt")" >> "$OUT/summary.tsv.tmp"
done < <(tail -n +2 "$HOLDOUT/manifest.tsv")
awk -F'\t' '{v[$1]=$2} END{
  printf "low_mean(06x,10x)\t%.5f\n", (v["cal_grch38_06x"]+v["cal_grch38_10x"])/2
  printf "holdout_sum(20x,35x,55x)\t%.4f\n", v["holdout_grch38_20x"]+v["holdout_grch38"]+v["holdout_grch38_55x"]
}' "$OUT/summary.tsv.tmp" >> "$OUT/summary.tsv.tmp"
mv "$OUT/summary.tsv.tmp" "$OUT/summary.tsv"
cat "$OUT/summary.tsv"
