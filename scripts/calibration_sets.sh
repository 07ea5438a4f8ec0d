#!/usr/bin/env bash
# The sets GQ/QUAL calibration is fitted on (scripts/calibrate.py, third version; issue 13):
#   - the cal_* sets of scripts/simulate_training.sh --depths (chr20:4.9-5.5 Mb, 2x101, 6x-60x);
#   - calb_* sets cut from the benchmark simulation (scripts/simulate_training.sh --bench: HG002
#     GRCh38 chr20 1-10 Mb, 30x 2x150, usual stutter, collapsed paralogs) over the two stretches
#     no training, cal_*, depth_* or holdout set covers, chr20:100,000-990,000 and
#     8,910,000-9,190,000 (0-based BED), less each paralog segment +-600 bp (the segments are
#     remade exactly by scripts/make_paralogs.py with the simulation's seed: its PSVs are not
#     variants of the sample, and no posterior accounts for them), at 30x and downsampled
#     (`samtools view -s`) to 6x, 10x and 15x.
# Writes OUT/manifest.tsv (both kinds, the simulate_training.sh columns) and OUT/calb/.
# Never chr20:9.9-10.2 Mb of GRCh37, where we are judged.
#
# Usage: scripts/calibration_sets.sh [OUT]     (default work/calib)
# Env:   DEPTHS=work/depths  BENCH=work/bench  (their manifest.tsv; made if missing, which takes
#        long: the bench simulation about 22 min on 2 cores)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/work/calib}
DEPTHS=${DEPTHS:-$ROOT/work/depths}
BENCH=${BENCH:-$ROOT/work/bench}
for tool in samtools python3; do
  command -v $tool >/dev/null || { echo "calibration_sets: $tool not found" >&2; exit 1; }
done
[ -s "$DEPTHS/manifest.tsv" ] || bash "$ROOT/scripts/simulate_training.sh" --depths "$DEPTHS"
[ -s "$BENCH/manifest.tsv" ] || bash "$ROOT/scripts/simulate_training.sh" --bench "$BENCH"
IFS=$'\t' read -r _ ref bam truth _ depth _ < <(grep '^bench_grch38_10mb' "$BENCH/manifest.tsv")
info=$(dirname "$bam")/sim_info.txt
[ "$depth" = 30 ] || { echo "calibration_sets: $bam is ${depth}x, expected 30x" >&2; exit 1; }
seed=$(awk -F= '$1=="paralog_seed"{print $2}' "$info")
[ -n "$seed" ] || { echo "calibration_sets: $info has no paralog_seed" >&2; exit 1; }
mkdir -p "$OUT/calb"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The paralog segments, exactly as the simulation drew them (same seed, same region FASTA).
samtools faidx "$ref" chr20:1-10000000 > "$tmp/region.fa"
python3 "$ROOT/scripts/make_paralogs.py" --seed "$seed" --offset 1 --fraction 0.03 \
  --fasta "$tmp/region.fa" --out "$tmp/para.fa" --summary "$tmp/para.txt" 2> "$tmp/para.log"
grep -q "segment_bp=$(awk -F= '$1=="paralog_segment_bp"{print $2}' "$info")$" "$tmp/para.txt" \
  || { echo "calibration_sets: remade paralog segments differ from $info" >&2; exit 1; }
python3 - "$tmp/para.fa" > "$OUT/calb/regions.bed" <<'PY'
import sys
free = [(100000, 990000), (8910000, 9190000)]
pad = 600
# Headers: >paralogN_START_END_dD, 1-based inclusive reference coordinates.
segs = sorted((int(h.split("_")[1]) - 1 - pad, int(h.split("_")[2]) + pad)
              for h in open(sys.argv[1]) if h.startswith(">"))
for s, e in free:
    cur = s
    for ps, pe in segs:
        if pe <= cur or ps >= e:
            continue
        if ps > cur:
            print(f"chr20\t{cur}\t{ps}")
        cur = max(cur, pe)
    if cur < e:
        print(f"chr20\t{cur}\t{e}")
PY
samtools view -b -L "$OUT/calb/regions.bed" -o "$OUT/calb/reads_30x.bam" "$bam"
samtools index "$OUT/calb/reads_30x.bam"
{
  head -1 "$DEPTHS/manifest.tsv"
  grep '^cal_' "$DEPTHS/manifest.tsv"
  for d in 6 10 15 30; do
    b=$OUT/calb/reads_${d}x.bam
    if [ "$d" != 30 ]; then
      frac=$(awk -v d="$d" 'BEGIN{printf "%.4f", d/30}')
      samtools view -b -s "$(( 200 + d ))${frac#0}" -o "$b" "$OUT/calb/reads_30x.bam"
      samtools index "$b"
    fi
    printf 'calb_grch38_%02dx\t%s\t%s\t%s\t%s\t%d\tGRCh38\tHG002\n' "$d" "$ref" "$b" "$truth" "$OUT/calb/regions.bed" "$d"
  done
} > "$OUT/manifest.tsv.tmp"
mv "$OUT/manifest.tsv.tmp" "$OUT/manifest.tsv"
echo "calibration_sets: $(( $(wc -l < "$OUT/manifest.tsv") - 1 )) sets in $OUT/manifest.tsv" >&2
