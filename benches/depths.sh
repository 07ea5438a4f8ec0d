#!/usr/bin/env bash
# Accuracy by depth (issue 13): simulated HG002 reads at 6x-60x (scripts/simulate_training.sh
# --depths), called by varstream, bcftools and freebayes on the same reads, scored by
# `varstream eval` against the variants put into the genome; then the GQ calibration table.
#
#   benches/depths.sh            # all of it; results in benches/results/depths.md
#   benches/depths.sh fresh      # the same on the fresh_* sets (simulate_training.sh --fresh:
#                                # HG001 GRCh37 chr20:59.78-60.0 Mb, made after every choice),
#                                # results in benches/results/depths_fresh.md
#   benches/depths.sh fit        # only re-fit the calibration (prints JSON; the fit's table of
#                                # its own sets goes to work/calib/fit_table.md)
#
# The calibration and the LowQual threshold are fitted (scripts/calibrate.py fit) on the cal_*
# sets (chr20:4.9-5.5 Mb, in no training set) and the calb_* sets of
# scripts/calibration_sets.sh (the benchmark simulation's reads over chr20:0.10-0.99 and
# 8.91-9.19 Mb, less its paralog segments); depth_* sets (the held-out 6.5-7.0 Mb) are only
# reported. None touches chr20:9.9-10.2 Mb (GRCh37), where we are judged.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=target/release/varstream
D=work/depths
PREFIX=depth_
OUT=benches/results/depths.md
ABOUT="HG002 GRCh38 chr20:6.5-7.0 Mb (held out; regions.bed of each set), 2x101 ART reads with stutter."
if [ "${1:-}" = "fresh" ]; then
  D=work/fresh
  PREFIX=fresh_
  OUT=benches/results/depths_fresh.md
  ABOUT="HG001 GRCh37 chr20:59.78-60.0 Mb (fresh: built after every choice, in no training, fitting or report set; regions.bed of each set), 2x101 ART reads with stutter."
  [ -s "$D/manifest.tsv" ] || bash scripts/simulate_training.sh --fresh "$D"
fi
[ -s "$D/manifest.tsv" ] || bash scripts/simulate_training.sh --depths "$D"
mkdir -p "$D/raw" "$D/calls"
T=${THREADS:-2}

if [ "${1:-}" = "fit" ]; then
  C=work/calib
  [ -s "$C/manifest.tsv" ] || DEPTHS=$D bash scripts/calibration_sets.sh "$C"
  mkdir -p "$C/raw" "$C/fitcal"
  tail -n +2 "$C/manifest.tsv" | while IFS=$'\t' read -r name ref bam truth bed rest; do
    "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$C/raw/$name.vcf.gz" \
      --no-calibration --min-qual 0 -q --threads "$T"
    "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$C/fitcal/$name.vcf.gz" \
      -q --threads "$T"
  done
  python3 scripts/calibrate.py table "$C/manifest.tsv" "$C/fitcal" cal > "$C/fit_table.md"
  python3 scripts/calibrate.py fit "$C/manifest.tsv" "$C/raw"
  exit 0
fi

for tool in bcftools freebayes; do
  command -v $tool >/dev/null || { echo "depths: $tool not found (apt-get install $tool)" >&2; exit 1; }
done
{
  echo "# Accuracy by depth on simulated reads"
  echo
  echo "Produced by \`benches/depths.sh\` on $(date -u +%F), varstream $(git rev-parse --short HEAD),"
  echo "$(bcftools --version | head -1), freebayes $(freebayes --version | awk '{print $2}')."
  echo "$ABOUT"
  echo
  echo "| depth | caller | SNV F1 | SNV F1_GT | INDEL F1 | INDEL F1_GT | ALL F1 | ALL F1_GT |"
  echo "|---|---|---|---|---|---|---|---|"
} > "$OUT.tmp"
score() { # name depth caller vcf truth bed ref
  "$BIN" eval --truth "$5" --query "$4" --regions "$6" --ref "$7" > "$D/calls/$1.$3.eval.txt"
  python3 - "$D/calls/$1.$3.eval.txt" "$2" "$3" >> "$OUT.tmp" <<'EOF'
import sys
lines = [l.split() for l in open(sys.argv[1]).read().splitlines() if l.split()]
hdr = lines[0]  # TYPE TRUTH QUERY TP FN FP F1 F1_GT
rows = {r[0]: r for r in lines[1:]}
def val(kind, name):
    r = rows.get(kind)
    return r[hdr.index(name)] if r and name in hdr else "?"
print(f"| {sys.argv[2]}x | {sys.argv[3]} | {val('SNV','F1')} | {val('SNV','F1_GT')} | {val('INDEL','F1')} | {val('INDEL','F1_GT')} | {val('ALL','F1')} | {val('ALL','F1_GT')} |")
EOF
}
tail -n +2 "$D/manifest.tsv" | grep "^$PREFIX" | while IFS=$'\t' read -r name ref bam truth bed depth rest; do
  v="$D/calls/$name.varstream.vcf.gz"
  "$BIN" call --ref "$ref" --reads "$bam" --regions "$bed" --output "$v" -q --threads "$T"
  b="$D/calls/$name.bcftools.vcf.gz"
  bcftools mpileup --threads "$T" -f "$ref" -R "$bed" -Ou "$bam" 2>/dev/null \
    | bcftools call -mv -Oz -o "$b" 2>/dev/null
  f="$D/calls/$name.freebayes.vcf.gz"
  freebayes -f "$ref" -t "$bed" "$bam" | bgzip -c > "$f"
  for c in varstream bcftools freebayes; do
    score "$name" "$depth" "$c" "$D/calls/$name.$c.vcf.gz" "$truth" "$bed" "$ref"
  done
done
{
  echo
  echo "## GQ calibration (varstream, the ${PREFIX}* sets above; fitted on the cal_* and calb_* sets)"
  echo
  echo "Predicted error is the mean of 10^(-GQ/10) over the calls in the band; observed is the"
  echo "share whose genotype differs from the truth; the interval is the exact 95% Poisson interval"
  echo "of the observed errors over the expected (scripts/calibrate.py table)."
  echo
  mkdir -p "$D/calls/table"
  for v in "$D"/calls/${PREFIX}*.varstream.vcf.gz; do
    n=$(basename "$v" .varstream.vcf.gz); ln -sf "../$n.varstream.vcf.gz" "$D/calls/table/$n.vcf.gz"
  done
  python3 scripts/calibrate.py table "$D/manifest.tsv" "$D/calls/table" "$PREFIX"
} >> "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
