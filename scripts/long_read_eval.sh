#!/usr/bin/env bash
# Scores long-read calling (issue 21, item 3): varstream with a given model (or the built-in
# choice when MODEL is "default") on the simulated held-out sets (10x/20x/30x/60x, from
# scripts/simulate_long_training.sh PLATFORM holdout) and on the real validation set, plus
# bcftools (`mpileup -X pacbio-ccs` / `-X ont` | `call -mv`) on the same sets; every score is
# ../shared/tools/eval_vcf.sh's inside the set's BED. Prints one TSV row per set:
#   caller set SNV_F1 INDEL_F1 ALL_F1_GT
# Usage: [HOLDOUT=lr_holdout2] [NO_REAL=1] scripts/long_read_eval.sh PLATFORM MODEL|default|bcftools OUTDIR [SIMDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLATFORM=$1 MODEL=$2 OUT=$3 SIM=${4:-$ROOT/work/lr/sim}
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
BIN=${BIN:-$ROOT/target/release/varstream}
EVAL=${EVAL:-$DATA/../tools/eval_vcf.sh}
case $PLATFORM in
  hifi) REAL=$DATA/longreads/hg002_hifi_sequel2_modkit_chr20_0.06mb; BCF="-X pacbio-ccs"; BCALL="-mv" ;;
  ont-r10) REAL=$DATA/longreads/hg002_ont_r10_dorado_chr20_5.00mb; BCF="-X ont"; BCALL="-mv -P0.01" ;;
esac
mkdir -p "$OUT"
sets=()
HO=${HOLDOUT:-lr_holdout}
for d in 10 20 30 60; do
  h=$SIM/${PLATFORM}_${HO}_${d}x
  sets+=("${HO#lr_}_${d}x|$h/reads.bam|$h/truth.vcf.gz|$h/regions.bed|$SIM/refs/grch38.chr20_and_21_10M.fa")
done
[ -n "${NO_REAL:-}" ] || sets+=("real|$(ls "$REAL"/*.bam)|$REAL/truth.vcf.gz|$REAL/confident.bed|$(ls "$REAL"/*.fa.gz)")
label=$(basename "$MODEL" .onnx)
for s in "${sets[@]}"; do
  IFS='|' read -r name bam truth bed ref <<< "$s"
  vcf=$OUT/$PLATFORM.$label.$name.vcf.gz
  rm -f "$vcf" "$vcf.tbi" "${vcf%.vcf.gz}.stats.json"
  if [ "$MODEL" = bcftools ]; then
    # shellcheck disable=SC2086
    nice -n 10 bcftools mpileup $BCF -a AD,DP -R "$bed" -f "$ref" "$bam" 2> /dev/null \
      | nice -n 10 bcftools call $BCALL -Oz -o "$vcf" 2> /dev/null
    tabix -f -p vcf "$vcf"
  else
    margs=(); [ "$MODEL" = default ] || margs=(--model "$MODEL")
    nice -n 10 "$BIN" -q call --ref "$ref" --reads "$bam" --regions "$bed" --threads 2 "${margs[@]}" -o "$vcf" 2> "$OUT/$PLATFORM.$label.$name.log"
  fi
  bash "$EVAL" "$truth" "$vcf" "$bed" "$ref" > "$OUT/$PLATFORM.$label.$name.eval.txt" 2>&1
  awk -v c="$label" -v n="$name" '$1=="SNV"{s=$9} $1=="INDEL"{i=$9} $1=="ALL"{a=$11} END{printf "%s\t%s\t%s\t%s\t%s\n", c, n, s, i, a}' "$OUT/$PLATFORM.$label.$name.eval.txt"
done
