#!/usr/bin/env bash
# Read-backed phasing (issue 24): `varstream call --phase` against WhatsHap 2.8 (`whatshap
# phase`, PyPI) run on the same calls (varstream's without --phase) and the same reads.
# For each set: heterozygous PASS calls (varstream's after its PhaseConflict filter; WhatsHap
# phases the calls without --phase, so its share is of those), phased, blocks and block N50 (benches/phase_blocks.py,
# the same count for both), the switch error rate between the two (`whatshap compare`), and,
# where the haplotypes are known (simulated sets), each one's switch errors against the truth;
# then the cost of phasing: varstream's wall with and without --phase, and WhatsHap's.
# Sets:
#   sim-hifi, sim-ont   1 Mb simulated at 30x, 20 kb reads, het SNVs on random haplotypes
#                       (benches/long_read_data.py --het-haplotypes random)
#   demo-illumina       the demo's simulated 2x101 30x reads (work/demo, `make demo`); its
#                       truth's GT order is the haplotypes the reads came from
#   real-hifi, real-ont the HG002 sets in $VARSTREAM_DATA/longreads (validation)
#   dev-illumina        the NA12878 dev BAM (real 2x148), in its window
# A set whose data is missing is skipped with a line saying so.
# Usage: benches/phasing.sh [THREADS]   (default 2; WHATSHAP=path/to/whatshap, default
#        `whatshap` on PATH: pip install whatshap==2.8). Not in CI. Results:
#        benches/results/phasing.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
THREADS=${1:-2}
BIN=target/release/varstream
DATA=${VARSTREAM_DATA:-../shared/data}
WHATSHAP=${WHATSHAP:-whatshap}
W=work/bench/phasing
[ -x "$BIN" ] || { echo "phasing.sh: build first (cargo build --release)" >&2; exit 1; }
for t in "$WHATSHAP" samtools bcftools /usr/bin/time python3; do
  command -v "$t" >/dev/null || { echo "phasing.sh: $t not found" >&2; exit 1; }
done
mkdir -p "$W"

# wall seconds of a command, its output discarded
timed() {
  /usr/bin/time -f "%e" -o "$W/time.txt" "$@" > /dev/null 2> "$W/last.log" \
    || { cat "$W/last.log" >&2; exit 1; }
  tail -1 "$W/time.txt"
}

# switch rate (switches / assessed pairs) of B against A: "rate (switches/pairs; flips)"
switches() {
  "$WHATSHAP" compare --names a,b --tsv-pairwise "$W/cmp.tsv" "$1" "$2" > /dev/null 2>&1
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next}
    {s+=$c["all_switches"]; p+=$c["all_assessed_pairs"]; split($c["all_switchflips"], f, "/"); fl+=f[2]}
    END{printf "%.2f %% (%d/%d; %d flips)", (p ? 100*s/p : 0), s, p, fl}' "$W/cmp.tsv"
}

echo "| set | het PASS calls: varstream --phase / WhatsHap's input (PhaseConflict) | phased: varstream / WhatsHap | blocks | block N50 bp | switch errors, varstream vs WhatsHap | vs truth: varstream / WhatsHap | wall s: call, call --phase, whatshap phase |"
echo "|---|---|---|---|---|---|---|---|"

# one_set NAME REF BAM REGION [TRUTH.vcf.gz, phased, sample renamed to the calls']
one_set() {
  local name=$1 ref=$2 bam=$3 region=$4 truth=${5:-}
  local d="$W/$name"
  rm -rf "$d"; mkdir -p "$d"
  local t_plain t_phase t_ws
  t_plain=$(timed "$BIN" -q call --ref "$ref" --reads "$bam" --region "$region" \
    --threads "$THREADS" --output "$d/plain.vcf.gz")
  t_phase=$(timed "$BIN" -q call --ref "$ref" --reads "$bam" --region "$region" \
    --threads "$THREADS" --output "$d/phased.vcf.gz" --phase)
  t_ws=$(timed "$WHATSHAP" phase --ignore-read-groups --reference "$ref" \
    -o "$d/whatshap.vcf" "$d/plain.vcf.gz" "$bam")
  read -r het vp vb vn < <(python3 benches/phase_blocks.py "$d/phased.vcf.gz")
  read -r wh wp wb wn < <(python3 benches/phase_blocks.py "$d/whatshap.vcf")
  local pc
  pc=$(bcftools view -H -i 'FILTER="PhaseConflict"' "$d/phased.vcf.gz" | wc -l)
  local sw truth_cols="n/a"
  sw=$(switches "$d/whatshap.vcf" "$d/phased.vcf.gz")
  if [ -n "$truth" ]; then
    local sample
    sample=$(bcftools query -l "$d/plain.vcf.gz")
    echo "$sample" > "$d/sample.txt"
    bcftools reheader -s "$d/sample.txt" -o "$d/truth.vcf.gz" "$truth"
    truth_cols="$(switches "$d/truth.vcf.gz" "$d/phased.vcf.gz") / $(switches "$d/truth.vcf.gz" "$d/whatshap.vcf")"
  fi
  printf "| %s | %d / %d (%d) | %d (%.1f %%) / %d (%.1f %%) | %d / %d | %d / %d | %s | %s | %s, %s, %s |\n" \
    "$name" "$het" "$wh" "$pc" "$vp" "$(echo "100 * $vp / $het" | bc -l)" "$wp" "$(echo "100 * $wp / $wh" | bc -l)" \
    "$vb" "$wb" "$vn" "$wn" "$sw" "$truth_cols" "$t_plain" "$t_phase" "$t_ws"
}

for platform in hifi ont; do
  s="$W/data/sim-$platform"
  if [ ! -s "$s/reads.bam.bai" ]; then
    python3 benches/long_read_data.py "$s" --length 1000000 --read-length 20000 --depth 30 \
      --errors "$platform" --het-haplotypes random
    samtools faidx "$s/ref.fa"
    samtools sort -@ "$THREADS" -o "$s/reads.bam" "$s/reads.sam" 2> /dev/null
    samtools index "$s/reads.bam"
    rm "$s/reads.sam"
    bcftools view -Oz -o "$s/truth.vcf.gz" "$s/truth.vcf"
  fi
  one_set "sim-$platform" "$s/ref.fa" "$s/reads.bam" chrS "$s/truth.vcf.gz"
done

demo=work/demo/tiny_grch38
if [ -s "$demo/reads.bam" ]; then
  # The simulation's GT order is the haplotype order: its truth, phased, in one block.
  t="$W/data/demo-truth.vcf.gz"
  mkdir -p "$W/data"
  bcftools view "$demo/truth.vcf.gz" \
    | awk 'BEGIN{OFS="\t"} /^##/{print; next}
           /^#/{print "##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set\">"; print; next}
           {sub("/", "|", $10); $9 = $9 ":PS"; $10 = $10 ":1"; print}' \
    | bcftools view -Oz -o "$t"
  region=$(bcftools view -H "$demo/truth.vcf.gz" | awk 'NR==1{c=$1; s=$2} {e=$2} END{print c ":" s "-" e}')
  one_set demo-illumina "$(awk -F'\t' 'NR==2{print $2}' work/demo/manifest.tsv)" "$demo/reads.bam" "$region" "$t"
else
  echo "| demo-illumina | skipped: no work/demo (make demo) | | | | | | |"
fi

lr="$DATA/longreads"
if [ -d "$lr" ]; then
  h="$lr/hg002_hifi_sequel2_modkit_chr20_0.06mb"
  one_set real-hifi "$h/grch38.chr20.masked_0-0.3mb.fa.gz" "$h"/*.bam chr20:65001-160000
  o="$lr/hg002_ont_r10_dorado_chr20_5.00mb"
  one_set real-ont "$o/grch38.chr20.masked_4.99-5.02mb.fa.gz" "$o"/*.bam chr20:5000001-5010000
else
  echo "| real-hifi, real-ont | skipped: no $lr | | | | | | |"
fi
dev="$DATA/na12878_chr20"
if [ -d "$dev" ]; then
  one_set dev-illumina "$dev/ucsc.hg19.chr20.unittest.fasta.gz" "$dev/NA12878_S1.chr20.10_10p1mb.bam" \
    chr20:10000001-10100000
else
  echo "| dev-illumina | skipped: no $dev | | | | | | |"
fi
