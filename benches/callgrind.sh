#!/usr/bin/env bash
# Instruction counts of one `varstream call` (valgrind --tool=callgrind), repeatable on a noisy
# machine where wall time is not: 200 kb (chr20:5,000,001-5,200,000) of the genome-scale
# benchmark's simulated 30x reads, --threads 1, with the `profiling` build (release + symbols).
#
#   benches/callgrind.sh             # prints the total and the 25 costliest functions
#   benches/callgrind.sh OUT.cg      # also keeps callgrind's output for callgrind_annotate
# Needs: valgrind, the data of benches/genome_scale.sh (work/bench/, built there on first run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v valgrind >/dev/null || { echo "callgrind: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
W=${BENCH_DIR:-$ROOT/work/bench}
[ -s "$W/bench_grch38_10mb/reads.bam" ] || bash scripts/simulate_training.sh --bench "$W"
cargo build --profile profiling -q
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
OUT=${1:-$T/cg.out}
valgrind --tool=callgrind --callgrind-out-file="$OUT" target/profiling/varstream call \
  --ref "$W/refs/grch38.chr20_and_21_10M.fa" --reads "$W/bench_grch38_10mb/reads.bam" \
  --region chr20:5000001-5200000 --threads 1 -q -o "$T/p.vcf.gz" 2> "$T/log"
grep -m1 "refs:" "$T/log"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null | grep -E "varstream::|hts_itr_next" \
  | grep -v "/rustc/" | head -25
