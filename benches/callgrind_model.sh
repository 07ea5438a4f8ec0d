#!/usr/bin/env bash
# Instruction counts of one `varstream call --model MODEL --threads 1` (valgrind --tool=callgrind)
# on 200 kb (chr20:5,000,001-5,200,000) of a cal_* set's reads, to compare the inference cost of
# genotyping models (issue 13, benches/results/rnn.md). Unlike benches/callgrind.sh (built-in
# model, the genome-scale benchmark's reads, the `profiling` build) it takes any model and uses
# the release build, whose symbols are enough for the inclusive counts printed:
#   total, varstream::inference::OnnxModel::run (inference), OnnxModel::load (session set-up).
#
#   benches/callgrind_model.sh MODEL.onnx SET [OUT.cg]      SET: e.g. cal_grch38_30x
# Env: DEPTHS=work/depths (its SET/reads.bam and refs/); needs valgrind.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v valgrind >/dev/null || { echo "callgrind_model: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
DEPTHS=${DEPTHS:-$ROOT/work/depths}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
OUT=${3:-$T/cg.out}
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$ROOT/target/release/varstream" call \
  --model "$1" --ref "$DEPTHS/refs/grch38.chr20_and_21_10M.fa" --reads "$DEPTHS/$2/reads.bam" \
  --region chr20:5000001-5200000 --threads 1 -q -o "$T/p.vcf.gz" 2> "$T/log" \
  || { rc=$?; grep -v '^==' "$T/log" >&2; exit $rc; }  # varstream's own error and exit code
total=$(grep -m1 "refs:" "$T/log" | awk '{gsub(",","",$NF); print $NF}')
ann=$(callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null)
inc() { echo "$ann" | grep -m1 "varstream::inference::OnnxModel::$1 " | awk '{gsub(",","",$1); print $1}'; }
printf 'model\t%s\nset\t%s\ntotal\t%s\ninference_run\t%s\nmodel_load\t%s\n' "$(basename "$1")" "$2" "$total" "$(inc run)" "$(inc load)"
