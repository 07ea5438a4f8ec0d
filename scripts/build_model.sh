#!/usr/bin/env bash
# Retrains the shipped genotyping model's recipe from scratch, reproducibly:
#   1. simulate reads of known diploid genomes (scripts/simulate_training.sh; never the
#      evaluation window chr20:9.9-10.2 Mb of GRCh37/hg19),
#   2. label every candidate with `varstream make-examples` (lower candidate thresholds than
#      calling, so the model also sees low-fraction non-variants; reads as aligned, without
#      local realignment, as varstream-v3 was trained: a model retrained on realigned reads
#      was not better on the held-out sets, see docs/models.md),
#   3. train and export with scripts/train.py into MODEL_DIR (default WORKDIR/model; set
#      MODEL_DIR=models to replace the shipped model), and say whether the bytes match it.
# Up to commit c480f07 this rebuilt models/varstream-v3.onnx byte for byte. Since the depth
# ratio is measured over fixed genome tiles, make-examples' depth channel differs slightly and
# the same recipe gives a sibling model of equal held-out accuracy (docs/models.md).
# Needs: scripts/install_sim_deps.sh, scripts/setup_train_env.sh, a release build.
# Usage: scripts/build_model.sh [WORKDIR]   (default work/)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${1:-$ROOT/work}
NAME=${MODEL_NAME:-varstream-v3}
BIN=$ROOT/target/release/varstream
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release)
[ -s "$WORK/sim/manifest.tsv" ] || bash "$ROOT/scripts/simulate_training.sh" "$WORK/sim"
rm -rf "$WORK/examples"; mkdir -p "$WORK/examples"
tail -n +2 "$WORK/sim/manifest.tsv" | while IFS=$'\t' read -r name ref bam truth bed depth build sample; do
  echo "make-examples: $name" >&2
  "$BIN" make-examples --ref "$ref" --reads "$bam" --truth "$truth" --confident "$bed" \
    --output "$WORK/examples/$name" --name "$name" --threads "${THREADS:-2}" \
    --min-snv-fraction 0.05 --min-indel-fraction 0.03 --no-realign -q
done
OUT=${MODEL_DIR:-$WORK/model}
"$ROOT/.venv-train/bin/python" "$ROOT/scripts/train.py" --examples "$WORK"/examples/*/ \
  --name "$NAME" --epochs 8 --patience 8 --augment-quality 0.5 --seed 1 --out-dir "$OUT"
built=$(sha256sum "$OUT/$NAME.onnx" | cut -c1-64)
shipped=$(sha256sum "$ROOT/models/$NAME.onnx" 2>/dev/null | cut -c1-64 || true)
if [ "$built" = "$shipped" ]; then
  echo "$OUT/$NAME.onnx: same bytes as models/$NAME.onnx ($built)"
else
  echo "$OUT/$NAME.onnx: sha256 $built, models/$NAME.onnx: ${shipped:-absent} (see docs/models.md, Reproduce)"
fi
