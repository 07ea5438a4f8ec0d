#!/usr/bin/env bash
# GQ/QUAL calibration of a long-read model (docs/long-reads.md, "Calibration of the shipped
# long-read models"): calls the calibration sets of its platform (scripts/simulate_long_training.sh
# PLATFORM cal) with --no-calibration, fits with scripts/calibrate.py fit (third-version rules,
# as varstream-v4's) and writes the calibration and the fitted LowQual threshold into a copy of
# the model's sidecar (scripts/set_calling.py) in OUT.
# Usage: scripts/calibrate_long_read_model.sh PLATFORM MODEL.onnx OUT [SIMDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLATFORM=$1 MODEL=$2 OUT=$3 SIM=${4:-$ROOT/work/lr/sim}
BIN=${BIN:-$ROOT/target/release/varstream}
NAME=$(basename "$MODEL" .onnx)
CAL=$OUT/cal_$PLATFORM
mkdir -p "$CAL/vcf"
printf 'name\tref\tbam\ttruth\tbed\tdepth\tbuild\tsample\n' > "$CAL/manifest.tsv"
for d in 10 20 30 60; do
  row=$(awk -F'\t' -v n="${PLATFORM}_lr_cal_${d}x" '$1==n' "$SIM/manifest.tsv")
  [ -n "$row" ] || { echo "no ${PLATFORM}_lr_cal_${d}x in $SIM/manifest.tsv" >&2; exit 1; }
  name=cal_${PLATFORM}_${d}x
  IFS=$'\t' read -r _ ref bam truth bed _ <<< "$row"
  printf '%s\n' "$row" | awk -F'\t' -v OFS='\t' -v n="$name" '{$1=n; print}' >> "$CAL/manifest.tsv"
  rm -f "$CAL/vcf/$name.vcf.gz"*
  nice -n 10 "$BIN" -q call --ref "$ref" --reads "$bam" --regions "$bed" --threads 2 \
    --model "$MODEL" --no-calibration -o "$CAL/vcf/$name.vcf.gz"
done
"$ROOT/.venv/bin/python" "$ROOT/scripts/calibrate.py" fit "$CAL/manifest.tsv" "$CAL/vcf" \
  > "$CAL/calibration.json" 2> "$CAL/fit.log"
q=$("$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["min_qual"])' "$CAL/calibration.json")
cp "$MODEL" "$OUT/$NAME.onnx"
cp "${MODEL%.onnx}.json" "$OUT/$NAME.json"
"$ROOT/.venv/bin/python" "$ROOT/scripts/set_calling.py" "$OUT/$NAME.json" "$CAL/calibration.json" \
  --min-qual "$q" --why "fitted on chr20:3.0-3.5 Mb $PLATFORM calibration sets (scripts/calibrate_long_read_model.sh)"
echo "$OUT/$NAME.json: calibrated, LowQual QUAL < $q" >&2
