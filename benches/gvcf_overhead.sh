#!/usr/bin/env bash
# What `--gvcf` costs: wall time and peak RSS of `varstream call` with and without it
# (`/usr/bin/time -v`, RUNS runs each, alternating, medians), on the NA12878 dev BAM
# (chr20:10.0-10.1 Mb: speed only, nothing is chosen there) and on one held-out simulated
# set (scripts/simulate_training.sh --holdout). Also the gVCF's size and record count for
# each GQ band preset on the held-out set. Writes benches/results/gvcf_overhead.md.
# Usage: benches/gvcf_overhead.sh   Environment: RUNS=5 THREADS=2 HOLDOUT=work/holdout
#        SET=holdout_grch38
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/release/varstream
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
D=$DATA/na12878_chr20
H=${HOLDOUT:-$ROOT/work/holdout}
SET=${SET:-holdout_grch38}
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}
OUT=$ROOT/benches/results/gvcf_overhead.md
[ -x "$BIN" ] || cargo build --release
[ -s "$D/NA12878_S1.chr20.10_10p1mb.bam" ] || { echo "gvcf_overhead: $D not found (set VARSTREAM_DATA)" >&2; exit 2; }
[ -s "$H/manifest.tsv" ] || bash scripts/simulate_training.sh --holdout "$H"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END{ if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }

# measure NAME ARGS...: RUNS runs without and with --gvcf, alternating; prints a table row each.
measure() {
  local name=$1; shift
  : > "$T/plain"; : > "$T/gvcf"
  for i in $(seq "$RUNS"); do
    for mode in plain gvcf; do
      local extra=()
      [ "$mode" = gvcf ] && extra=(--gvcf "$T/o.g.vcf.gz")
      /usr/bin/time -v "$BIN" call -q "$@" --threads "$THREADS" -o "$T/o.vcf.gz" "${extra[@]}" 2> "$T/time"
      awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
                  /User time/{u=$2} /System time/{c=$2}
                  /Maximum resident set size/{m=$2} END{print w, m/1024, u+c}' "$T/time" >> "$T/$mode"
    done
  done
  local pw pm gw gm pc gc
  pw=$(cut -d' ' -f1 "$T/plain" | median); pm=$(cut -d' ' -f2 "$T/plain" | median)
  gw=$(cut -d' ' -f1 "$T/gvcf" | median); gm=$(cut -d' ' -f2 "$T/gvcf" | median)
  pc=$(cut -d' ' -f3 "$T/plain" | median); gc=$(cut -d' ' -f3 "$T/gvcf" | median)
  local lines size
  lines=$(zcat "$T/o.g.vcf.gz" | grep -vc '^#')
  size=$(stat -c %s "$T/o.g.vcf.gz")
  awk -v n="$name" -v pw="$pw" -v gw="$gw" -v pm="$pm" -v gm="$gm" -v pc="$pc" -v gc="$gc" \
      -v l="$lines" -v s="$size" 'BEGIN{
    printf "| %s | %.2f | %.2f | %+.0f%% | %.2f | %.2f | %+.0f%% | %.0f | %.0f | %+.0f%% | %d | %.0f |\n",
      n, pw, gw, 100*(gw-pw)/pw, pc, gc, 100*(gc-pc)/pc, pm, gm, 100*(gm-pm)/pm, l, s/1024 }'
}

IFS=$'\t' read -r name ref bam truth bed depth build sample < <(awk -F'\t' -v n="$SET" '$1==n' "$H/manifest.tsv")
{
  echo "# Cost of --gvcf"
  echo
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); varstream $(git rev-parse --short HEAD);"
  echo "\`benches/gvcf_overhead.sh\`, --threads $THREADS, medians of $RUNS runs each (\`/usr/bin/time -v\`), default GQ bands."
  echo
  echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; CPU time moves less with load than wall time)."
  echo
  echo "| data | wall without (s) | wall with --gvcf (s) | change | CPU without (s) | CPU with (s) | change | peak RSS without (MB) | with (MB) | change | gVCF lines | gVCF size (KB) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  measure "NA12878 chr20:10.0-10.1 Mb, 52x (dev BAM)" --ref "$D/ucsc.hg19.chr20.unittest.fasta.gz" \
    --reads "$D/NA12878_S1.chr20.10_10p1mb.bam" --region chr20:10000000-10100000
  measure "$name (${depth}x simulated, $(awk '{s+=$3-$2} END{print s}' "$bed") bp)" --ref "$ref" \
    --reads "$bam" --regions "$bed"
  echo
  echo "## GQ band presets on $name"
  echo
  echo "| --gvcf-gq-bands | gVCF lines | reference blocks | mean block length (bp) | gVCF size (KB) |"
  echo "|---|---|---|---|---|"
  for bands in 5,20,60 deepvariant gatk "$(seq -s, 1 99)"; do
    "$BIN" call -q --ref "$ref" --reads "$bam" --regions "$bed" --threads "$THREADS" -o "$T/p.vcf.gz" \
      --gvcf "$T/p.g.vcf.gz" --gvcf-gq-bands "$bands"
    label=$bands; [ "$bands" = 5,20,60 ] && label="5,20,60 (default)"; [ ${#bands} -gt 20 ] && label="1,2,...,99 (one band per GQ)"
    zcat "$T/p.g.vcf.gz" | awk -F'\t' -v b="$label" -v s="$(stat -c %s "$T/p.g.vcf.gz")" '
      !/^#/ {n++; if ($5=="<*>") {k++; split($8,e,"="); len+=e[2]-$2+1}}
      END {printf "| %s | %d | %d | %.1f | %.0f |\n", b, n, k, len/k, s/1024}'
  done
} > "$OUT"
cat "$OUT"
