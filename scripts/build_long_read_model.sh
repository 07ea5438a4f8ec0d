#!/usr/bin/env bash
# Builds a long-read genotyping model (issue 21, item 3) with the recipe fixed in
# docs/long-reads.md ("Long-read models: how one is chosen"):
#   1. scripts/longread_profile.py measures the platform's error profile on the real set in
#      ../shared/data/longreads/ (only rates are taken from it),
#   2. scripts/simulate_long_training.sh simulates and aligns the training and held-out sets,
#   3. varstream make-examples labels every candidate (--no-realign; SNV 0.05, indel half the
#      platform's calling threshold),
#   4. scripts/train.py fine-tunes varstream-v3's network on them and exports
#      MODEL_DIR/varstream-PLATFORM-v1.onnx (+ .json, .train_log.tsv).
# ROUND=2 (docs/long-reads.md, round 2): also the train2 regions (lr_b, lr_e), and the sidecar's
# calling.min_qual set to 0 as varstream-v4's (train.py's own pick kept as min_qual_fitted).
# Usage: [ROUND=2] scripts/build_long_read_model.sh hifi|ont-r10 [WORKDIR]   (default work/lr)
# Needs minimap2, samtools, bcftools, a release build, .venv (numpy) and .venv-train
# (scripts/setup_train_env.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PLATFORM=$1
WORK=${2:-$ROOT/work/lr}
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
BIN=${BIN:-$ROOT/target/release/varstream}
NAME=${MODEL_NAME:-varstream-$PLATFORM-v1}
ROUND=${ROUND:-1}
OUT=${MODEL_DIR:-$WORK/model$([ "$ROUND" = 1 ] || echo "_r$ROUND")}
case $PLATFORM in
  hifi) REAL=$DATA/longreads/hg002_hifi_sequel2_modkit_chr20_0.06mb; INDEL=0.04 ;;
  ont-r10) REAL=$DATA/longreads/hg002_ont_r10_dorado_chr20_5.00mb; INDEL=0.075 ;;
  *) echo "platform must be hifi or ont-r10" >&2; exit 2 ;;
esac
mkdir -p "$WORK"
PROFILE=$WORK/profile_$PLATFORM.json
# The profiles the shipped models were built with are committed (data/longread_profiles/);
# REMEASURE=1 measures them again from the real reads.
if [ ! -s "$PROFILE" ] && [ -z "${REMEASURE:-}" ] && [ -s "$ROOT/data/longread_profiles/$PLATFORM.json" ]; then
  cp "$ROOT/data/longread_profiles/$PLATFORM.json" "$PROFILE"
fi
if [ ! -s "$PROFILE" ]; then
  "$ROOT/.venv/bin/python" "$ROOT/scripts/longread_profile.py" "$REAL"/*.bam "$REAL"/*.fa.gz \
    "$REAL/truth.vcf.gz" "$REAL/confident.bed" --platform "$PLATFORM" -o "$PROFILE"
fi
SIM=$WORK/sim
sets="train:a holdout:holdout"
[ "$ROUND" = 1 ] || sets="$sets train2:b holdout2:holdout2"
for s in $sets; do
  grep -q "^${PLATFORM}_lr_${s#*:}_" "$SIM/manifest.tsv" 2>/dev/null \
    || PROFILE=$PROFILE bash "$ROOT/scripts/simulate_long_training.sh" "$PLATFORM" "${s%%:*}" "$SIM"
done
pattern="${PLATFORM}_lr_[ad]_*"
[ "$ROUND" = 1 ] || pattern="${PLATFORM}_lr_[adbe]_*"
EX=$WORK/examples_$PLATFORM
mkdir -p "$EX"
dirs=()
while IFS=$'\t' read -r name ref bam truth bed depth build sample; do
  # shellcheck disable=SC2254
  case $name in $pattern) ;; *) continue ;; esac
  dirs+=("$EX/$name")
  [ -s "$EX/$name/examples.json" ] && continue
  echo "make-examples: $name" >&2
  nice -n 10 "$BIN" make-examples --ref "$ref" --reads "$bam" --truth "$truth" --confident "$bed" \
    --output "$EX/$name" --name "$name" --threads "${THREADS:-2}" \
    --min-snv-fraction 0.05 --min-indel-fraction "$INDEL" --no-realign -q
done < <(tail -n +2 "$SIM/manifest.tsv")
nice -n 10 "$ROOT/.venv-train/bin/python" "$ROOT/scripts/train.py" --examples "${dirs[@]}" \
  --name "$NAME" --init-onnx "$ROOT/models/varstream-v3.onnx" --epochs 8 --patience 3 --lr 5e-4 \
  --augment-quality 0.5 --seed 1 --threads 2 --out-dir "$OUT"
if [ "$ROUND" != 1 ]; then
  "$ROOT/.venv/bin/python" - "$OUT/$NAME.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
c = d.setdefault("calling", {})
c["min_qual_fitted"] = c.get("min_qual")
c["min_qual"] = 0.0
c["min_qual_why"] = "round 2 (docs/long-reads.md): LowQual at QUAL < 0, as varstream-v4; min_qual_fitted is train.py's pick on validation blocks"
json.dump(d, open(p, "w"), indent=2)
PY
fi
ls -la "$OUT/$NAME.onnx"
