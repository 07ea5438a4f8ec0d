#!/usr/bin/env bash
# Do two varstream binaries write the same outputs? For changes meant to preserve behaviour
# (refactors, the read stage's rework): VCF, gVCF and stats of the dev BAM and CRAM, the demo
# set at two thread counts and shard sizes, compared line by line with the two header lines
# that name the binary and its command line left out; `shards` BED files, `make-examples`
# shards, and the score tables and report of the committed demo cohort, byte for byte.
# Usage: benches/same_output.sh OLD_BINARY NEW_BINARY [WORKDIR]
# Needs VARSTREAM_DATA (default ../shared/data) for the dev BAM, and work/demo (make demo) for
# the simulated set; a case whose data is missing is reported as skipped. Exit 0 when every
# case that ran is identical, 1 otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY [WORKDIR]" >&2; exit 2; }
OLD=$(readlink -f "$1"); NEW=$(readlink -f "$2")
DATA=$(readlink -f "${VARSTREAM_DATA:-$ROOT/../shared/data}")
mkdir -p "${3:-$ROOT/work/same_output}"
WORK=$(readlink -f "${3:-$ROOT/work/same_output}")
cd "$ROOT"
fail=0; ran=0

# Strip what legitimately differs between two binaries: the version line and the command.
body() { zcat "$1" | grep -v -e '^##source=' -e '^##varstream_command='; }
# Stats files compared as JSON, without the version fields and the read count retired with
# the read-length cap (stats_version 1 -> 2: reads.too_long, always 0 since).
same_stats() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def load(p):
    d = json.load(open(p))
    for k in ("generated_by", "stats_version"):
        d.pop(k, None)
    d.get("reads", {}).pop("too_long", None)
    return d
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
}

# case NAME ARGS...: run both binaries with ARGS plus -o, compare VCF, gVCF (if asked) and stats.
case_() {
  local name=$1; shift
  local out
  for which in old new; do
    local bin=$OLD; [ $which = new ] && bin=$NEW
    out="$WORK/$name.$which"
    rm -f "$out".*
    local gv=()
    if [ "${GVCF:-0}" = 1 ]; then gv=(--gvcf "$out.g.vcf.gz"); fi
    "$bin" -q call "$@" "${gv[@]}" -o "$out.vcf.gz" 2> "$out.log" \
      || { echo "$name: $which binary failed (see $out.log)"; fail=1; return; }
  done
  ran=$((ran + 1))
  local a="$WORK/$name.old" b="$WORK/$name.new" same=1
  cmp -s <(body "$a.vcf.gz") <(body "$b.vcf.gz") || same=0
  if [ "${GVCF:-0}" = 1 ]; then cmp -s <(body "$a.g.vcf.gz") <(body "$b.g.vcf.gz") || same=0; fi
  same_stats "$a.stats.json" "$b.stats.json" || same=0
  local n; n=$(zcat "$b.vcf.gz" | grep -vc '^#' || true)
  if [ $same = 1 ]; then
    echo "$name: identical ($n records)"
  else
    echo "$name: DIFFERENT (diff <(zcat $a.vcf.gz) <(zcat $b.vcf.gz))"
    fail=1
  fi
}

DEV=$DATA/na12878_chr20
if [ -f "$DEV/NA12878_S1.chr20.10_10p1mb.bam" ]; then
  REF=$DEV/ucsc.hg19.chr20.unittest.fasta.gz
  GVCF=1 case_ dev_bam --ref "$REF" --reads "$DEV/NA12878_S1.chr20.10_10p1mb.bam" \
    --regions "$DEV/window.bed"
  case_ dev_cram --ref "$REF" --reads "$DEV/NA12878_S1.chr20.10_10p1mb.cram" \
    --regions "$DEV/window.bed"
  case_ dev_bam_t1_shard1k --ref "$REF" --reads "$DEV/NA12878_S1.chr20.10_10p1mb.bam" \
    --regions "$DEV/window.bed" --threads 1 --shard-size 1000
else
  echo "dev_bam, dev_cram: skipped (no $DEV)"
fi

if [ -s work/demo/manifest.tsv ]; then
  # The manifest's paths are relative to the repository root (we cd'd there above).
  IFS=$'\t' read -r _ ref bam _ bed _ _ sample < <(tail -n +2 work/demo/manifest.tsv | head -1)
  GVCF=1 case_ demo --ref "$ref" --reads "$bam" --regions "$bed" --sample "$sample"
  case_ demo_t1_shard7k --ref "$ref" --reads "$bam" --regions "$bed" --sample "$sample" \
    --threads 1 --shard-size 7000
else
  echo "demo: skipped (no work/demo/manifest.tsv: run make demo)"
fi

# Two reports' JSON, equal once the fields that name the binary, its commit and command line
# are dropped and each run's folder is written the same.
same_json() {
  python3 - "$@" <<'PY'
import json, sys
a, b, name = sys.argv[1:4]
def load(p, which):
    text = open(p).read().replace(f"{name}.{which}/", f"{name}.RUN/")
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items()
                    if k not in ("generated_by", "commit", "report_command", "command_line")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return strip(json.loads(text))
sys.exit(0 if load(a, "old") == load(b, "new") else 1)
PY
}

# files_case NAME FILE...: the named files of the old and new run (WORK/NAME.old/..., .new/...)
# compared byte for byte (gzipped ones decompressed; JSON by same_json).
files_case() {
  local name=$1; shift; local same=1 f
  for f in "$@"; do
    local a="$WORK/$name.old/$f" b="$WORK/$name.new/$f"
    [ -e "$a" ] && [ -e "$b" ] || { echo "$name: $f missing"; same=0; continue; }
    case $f in
      *.gz) cmp -s <(zcat "$a") <(zcat "$b") || same=0 ;;
      *.json) same_json "$a" "$b" "$name" || same=0 ;;
      *) cmp -s "$a" "$b" || same=0 ;;
    esac
  done
  ran=$((ran + 1))
  if [ $same = 1 ]; then echo "$name: identical ($# files)"; else echo "$name: DIFFERENT (diff -r $WORK/$name.old $WORK/$name.new)"; fail=1; fi
}

# Each binary's own output folder for NAME: WORK/NAME.old, WORK/NAME.new.
both() {
  local name=$1; shift
  for which in old new; do
    local bin=$OLD; [ $which = new ] && bin=$NEW
    rm -rf "$WORK/$name.$which"; mkdir -p "$WORK/$name.$which"
    D="$WORK/$name.$which" "$@" "$bin" > "$WORK/$name.$which.log" 2>&1 \
      || { echo "$name: $which binary failed (see $WORK/$name.$which.log)"; fail=1; }
  done
}

# `shards` over the dev window (BAI-weighted) and `make-examples` on the demo set.
if [ -f "$DEV/NA12878_S1.chr20.10_10p1mb.bam" ]; then
  shards_run() { "$1" -q shards --ref "$REF" --reads "$DEV/NA12878_S1.chr20.10_10p1mb.bam" \
    --regions "$DEV/window.bed" --count 3 --output "$D"; }
  both shards shards_run
  files_case shards $(cd "$WORK/shards.new" && ls)
fi
if [ -s work/demo/manifest.tsv ]; then
  IFS=$'\t' read -r _ ref bam truth bed _ _ sample < <(tail -n +2 work/demo/manifest.tsv | head -1)
  examples_run() { "$1" -q make-examples --ref "$ref" --reads "$bam" --truth "$truth" \
    --confident "$bed" --sample "$sample" --output "$D/ex"; }
  both make_examples examples_run
  files_case make_examples $(cd "$WORK/make_examples.new" && find ex -type f | sort)
fi

# The scores and the report on the committed demonstration cohort (tests/data/risk).
scores_run() {
  local bin=$1 vcf=tests/data/risk/demo_cohort.vcf
  "$bin" -q score prs --vcf $vcf --pgs tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz \
    --output "$D/c" \
  && "$bin" -q score expression --vcf $vcf --weights models/demo-risk-v1.eqtl.db --output "$D/c" \
  && "$bin" -q score risk --model models/demo-risk-v1.onnx --features "$D/c" \
       --covariates tests/data/risk/demo_cohort.covariates.tsv --output "$D/c" \
  && "$bin" -q report --vcf $vcf --sample D02 --prs "$D/c.prs.tsv" \
       --expression "$D/c.expression.tsv" --risk "$D/c.risk.tsv" --output "$D/r"
}
both scores scores_run
files_case scores c.prs.tsv c.prs_matches.tsv.gz c.expression.tsv c.risk.tsv r.report.json \
  r.report_mqc.json

echo "$ran case(s) compared; $([ $fail = 0 ] && echo all identical || echo SOME DIFFER)"
exit $fail
