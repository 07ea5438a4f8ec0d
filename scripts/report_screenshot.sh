#!/usr/bin/env bash
# The report screenshot in docs/ (docs/usage.md), from the development data: NA12878 chr20:10.0-10.1 Mb called
# with its stats, PGS000001 and the demonstration risk model's synthetic eQTL weights, a
# "panel" of the GIAB confident intervals annotated from the GIAB v3.3.2 truth VCF (its
# platforms/datasets/callsets counts stand in for ClinVar, which is not in ../shared), the
# demonstration risk model (example covariates: age 50, sex F), then `varstream report` on
# all of it and a headless Chromium screenshot.
#
# Nothing here trains or tunes anything: the window is only called and reported.
# Usage: scripts/report_screenshot.sh [OUT_PNG]   (default docs/report-screenshot.png)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DATA=${VARSTREAM_DATA:-../shared/data}
D=$DATA/na12878_chr20
OUT=work/report-demo
PNG=${1:-docs/report-screenshot.png}
BIN=target/release/varstream
[ -x "$BIN" ] || cargo build --release
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "report_screenshot: chromium not found (scripts/setup.sh)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
awk 'BEGIN { OFS = "\t" } { print $1, $2, $3, "GIAB_confident_" NR }' \
  "$D/test_nist.b37_chr20_100kbp_at_10mb.bed" > "$OUT/panel.bed"
TRUTH=$D/test_nist.b37_chr20_100kbp_at_10mb.vcf.gz
REF=$D/ucsc.hg19.chr20.unittest.fasta.gz
"$BIN" -q call --ref "$REF" --reads "$D/NA12878_S1.chr20.10_10p1mb.bam" \
  --region chr20:10000000-10100000 --output "$OUT/NA12878.vcf.gz" \
  --pgs tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz --weights models/demo-risk-v1.eqtl.db
printf 'sample\tage\tsex\nNA12878\t50\tF\n' > "$OUT/covariates.tsv"
"$BIN" -q score risk --model models/demo-risk-v1.onnx --features "$OUT/NA12878" \
  --covariates "$OUT/covariates.tsv" --output "$OUT/NA12878"
# A fixed date on the page, so the picture does not change with the day it is made.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} "$BIN" -q report --vcf "$OUT/NA12878.vcf.gz" \
  --output "$OUT/NA12878" --stats "$OUT/NA12878.stats.json" --prs "$OUT/NA12878.prs.tsv" \
  --risk "$OUT/NA12878.risk.tsv" --expression "$OUT/NA12878.expression.tsv" \
  --panel "$OUT/panel.bed" --annotations "$TRUTH" --annotation-fields platforms,datasets,callsets \
  --ref "$REF"
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$PROFILE" --hide-scrollbars \
  --window-size=980,1500 --screenshot="$ROOT/$PNG" "file://$ROOT/$OUT/NA12878.report.html" 2>/dev/null
echo "report: $OUT/NA12878.report.html; screenshot: $PNG ($(stat -c %s "$PNG") bytes)"
