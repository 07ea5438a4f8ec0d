#!/usr/bin/env bash
# Low-depth training data and fine-tuning (issue 13, docs/models.md "low depth"):
#   1. simulate the --lowdepth sources (scripts/simulate_training.sh: training regions a, b,
#      d, e of chr20 GRCh38 at 40x with stutter; never a cal_*, depth_* or holdout region,
#      never GRCh37 chr20:9.9-10.2 Mb),
#   2. downsample each with `samtools view -s SEED.FRAC` (read pairs stay together) to the
#      depths in DEPTHS, several seeds for the lowest ones, and label every candidate with
#      `varstream make-examples` exactly as scripts/build_model.sh does (same thresholds,
#      --no-realign),
#   3. fine-tune from INIT (default models/varstream-v3.onnx; scripts/train.py --init-onnx)
#      or, with INIT=none, train from scratch, into MODEL_DIR/NAME. The default TRAIN_ARGS are
#      varstream-v4's: the exported graph is the fine-tuned cnn where the site's depth is <= 12
#      reads and v3 at >= 16, mixed linearly between (train.py --gate-onnx).
# Then fit its calibration on the cal_* sets (scripts/lowdepth_select.sh MODEL OUT writes
# OUT/calibration.json and the selection numbers) and write it into the sidecar
# (scripts/set_calling.py). varstream-v4: docs/models.md.
# Usage: scripts/build_lowdepth.sh [WORKDIR]      (default work/lowdepth)
# Env:   NAME=varstream-v4  MODEL_DIR=WORKDIR/model  INIT=models/varstream-v3.onnx
#        DEPTHS="4:3 6:3 8:2 10:2 12:1 15:1 20:1 30:1 40:1"  (depth:number of seeds)
#        TRAIN_ARGS="..."  scripts/train.py flags (default: the varstream-v4 recipe, gated 12..16
#                   to v3, 4 epochs, lr 3e-4, seed 1)
#        SOURCES="lowdepth_grch38_b ..."  (default: every set in the sim manifest)
#        THREADS=1  PYTHON=.venv-train/bin/python  SKIP_EXAMPLES=1 (reuse WORKDIR/examples)
#        TRAIN=0 (only the examples)
#        EXAMPLE_ARGS="--read-tensors"  make-examples flags in place of the default --no-realign
#                   (the read tier's examples: realigned as `call` sees them, with read rows)
#        MIN_ALT_READS=1  make-examples' --min-alt-reads (default: its own, 2); a model trained
#                   so is called with the same value (sidecar calling.min_alt_reads, issue 13)
# A downsampled BAM already in WORKDIR/down (with its index) is reused, so WORKDIR/sim and
# WORKDIR/down may be links to another run's (read only; make-examples only reads them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${1:-$ROOT/work/lowdepth}
NAME=${NAME:-varstream-v4}
OUT=${MODEL_DIR:-$WORK/model}
INIT=${INIT:-$ROOT/models/varstream-v3.onnx}
DEPTHS=${DEPTHS:-"4:3 6:3 8:2 10:2 12:1 15:1 20:1 30:1 40:1"}
T=${THREADS:-1}
PY=${PYTHON:-$ROOT/.venv-train/bin/python}
BIN=$ROOT/target/release/varstream
SIM_DEPTH=40
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release)
[ -s "$WORK/sim/manifest.tsv" ] || SIM_THREADS=$T bash "$ROOT/scripts/simulate_training.sh" --lowdepth "$WORK/sim"

if [ "${SKIP_EXAMPLES:-0}" != 1 ]; then
  mkdir -p "$WORK/down" "$WORK/examples"
  tail -n +2 "$WORK/sim/manifest.tsv" | while IFS=$'\t' read -r name ref bam truth bed depth rest; do
    if [ -n "${SOURCES:-}" ] && [[ " $SOURCES " != *" $name "* ]]; then continue; fi
    [ "$depth" = "$SIM_DEPTH" ] || { echo "build_lowdepth: $name is ${depth}x, expected ${SIM_DEPTH}x" >&2; exit 1; }
    for spec in $DEPTHS; do
      d=${spec%%:*}; nseeds=${spec#*:}
      for s in $(seq 1 "$nseeds"); do
        set_name=$(printf '%s_%02dx_s%d' "$name" "$d" "$s")
        [ -s "$WORK/examples/$set_name/examples.json" ] && continue
        if [ "$d" -ge "$SIM_DEPTH" ]; then
          sbam=$bam
        else
          # samtools -s SEED.FRAC: integer part the seed, decimals the kept fraction.
          frac=$(awk -v d="$d" -v D="$SIM_DEPTH" 'BEGIN{printf "%.4f", d/D}')
          sbam=$WORK/down/$set_name.bam
          [ -s "$sbam.bai" ] || samtools view -@ 0 -b -s "$(( 100 * s + d ))${frac#0}" -o "$sbam" "$bam"
          [ -s "$sbam.bai" ] || samtools index "$sbam"
        fi
        echo "make-examples: $set_name" >&2
        "$BIN" make-examples --ref "$ref" --reads "$sbam" --truth "$truth" --confident "$bed" \
          --output "$WORK/examples/$set_name" --name "$set_name" --threads "$T" \
          --min-snv-fraction 0.05 --min-indel-fraction 0.03 ${EXAMPLE_ARGS---no-realign} -q \
          ${MIN_ALT_READS:+--min-alt-reads "$MIN_ALT_READS"}
      done
    done
  done
fi

[ "${TRAIN:-1}" = 1 ] || exit 0
init_args=()
[ "$INIT" = none ] || init_args=(--init-onnx "$INIT")
# shellcheck disable=SC2086
"$PY" "$ROOT/scripts/train.py" --examples "$WORK"/examples/*/ --name "$NAME" --threads "$T" \
  --augment-quality 0.5 --patience 8 "${init_args[@]}" ${TRAIN_ARGS:---gate-onnx $ROOT/models/varstream-v3.onnx --gate-depth 12,16 --epochs 4 --lr 3e-4 --seed 1} --out-dir "$OUT"
# A gated pair runs each network only on the rows whose gate weight is not 0 for it (same
# outputs, bit for bit; about half the inference at 30x): what models/varstream-v4.onnx ships.
if grep -q '"gate"' "$OUT/$NAME.json"; then
  "$ROOT/.venv/bin/python" "$ROOT/scripts/route_gate.py" "$OUT/$NAME.onnx" "$OUT/$NAME.onnx" "$OUT/$NAME.json"
fi
