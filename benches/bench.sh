#!/usr/bin/env bash
# End-to-end benchmarks (not tests: timings vary by machine). Writes benches/results/*.
#   1. wall time and peak memory, varstream vs bcftools mpileup|call, on the NA12878 dev set;
#   2. peak memory vs region size on simulated reads (memory must not grow with the region).
# `make bench` then runs benches/depth_memory.sh (peak memory at 5,000x and 30,000x; own data).
# Needs: make build, hyperfine and bcftools (scripts/setup.sh installs bcftools; hyperfine is
# installed here if missing), VARSTREAM_DATA, and for (2) work/sim from scripts/simulate_training.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/release/varstream
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
D=$DATA/na12878_chr20
OUT=$ROOT/benches/results
THREADS=${THREADS:-2}
mkdir -p "$OUT"
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || sudo apt-get install -y -qq hyperfine; }
[ -s "$D/NA12878_S1.chr20.10_10p1mb.bam" ] || { echo "bench: $D not found (set VARSTREAM_DATA)" >&2; exit 2; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
REF=$D/ucsc.hg19.chr20.unittest.fasta.gz
REGION=chr20:10000000-10100000

{
  echo "# varstream benchmarks"
  echo
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); varstream $(git -C "$ROOT" rev-parse --short HEAD); $(bcftools --version | head -1)"
  echo
  echo "## NA12878 chr20:10.0-10.1 Mb (52x), --threads $THREADS"
  echo
} > "$OUT/summary.md"

hyperfine -w 2 -r 10 --export-markdown "$T/h.md" \
  -n varstream-bam "$BIN call --ref $REF --reads $D/NA12878_S1.chr20.10_10p1mb.bam --region $REGION --threads $THREADS -q -o $T/v.vcf.gz" \
  -n varstream-cram "$BIN call --ref $REF --reads $D/NA12878_S1.chr20.10_10p1mb.cram --region $REGION --threads $THREADS -q -o $T/c.vcf.gz" \
  -n bcftools "bcftools mpileup --threads $THREADS -f $REF -r $REGION -Ou $D/NA12878_S1.chr20.10_10p1mb.bam 2>/dev/null | bcftools call -mv -Oz -o $T/b.vcf.gz"
cat "$T/h.md" >> "$OUT/summary.md"
echo >> "$OUT/summary.md"
echo "| command | peak RSS (MB) |" >> "$OUT/summary.md"
echo "|---|---|" >> "$OUT/summary.md"
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
v=$(/usr/bin/time -f "%M" "$BIN" call --ref "$REF" --reads "$D/NA12878_S1.chr20.10_10p1mb.bam" --region $REGION --threads "$THREADS" -q -o "$T/v.vcf.gz" 2>&1 | tail -1)
b=$( { /usr/bin/time -f "%M" bash -c "bcftools mpileup -f $REF -r $REGION -Ou $D/NA12878_S1.chr20.10_10p1mb.bam 2>/dev/null | bcftools call -mv -Oz -o $T/b.vcf.gz"; } 2>&1 | tail -1)
echo "| varstream call (BAM) | $((v / 1024)) |" >> "$OUT/summary.md"
echo "| bcftools mpileup \| call (the bash wrapper's peak, not the pipe's sum) | $((b / 1024)) |" >> "$OUT/summary.md"

MAN=$ROOT/work/sim/manifest.tsv
if [ -s "$MAN" ]; then
  IFS=$'\t' read -r name ref bam truth bed depth build sample < <(grep -P '^hg002_grch38_a\t' "$MAN")
  {
    echo
    echo "## Peak memory vs region size ($name: simulated ${depth}x, chr20 from 1.0 Mb)"
    echo
    echo "| region length | wall (s) | peak RSS (MB) | records |"
    echo "|---|---|---|---|"
  } >> "$OUT/summary.md"
  for len in 100000 500000 1900000; do
    s=1000500; e=$((s + len))
    /usr/bin/time -f "%e %M" -o "$T/t" "$BIN" call --ref "$ref" --reads "$bam" --region "chr20:$s-$e" --threads "$THREADS" -q -o "$T/m.vcf.gz"
    read -r wall kb < "$T/t"
    n=$(zcat "$T/m.vcf.gz" | grep -vc '^#')
    echo "| $len | $wall | $((kb / 1024)) | $n |" >> "$OUT/summary.md"
  done

  # The dev window takes varstream a quarter of a second, most of it start-up (loading ONNX
  # Runtime and the model), so its ratio to bcftools says little about a real run. The
  # 1.9 Mb region is long enough for calling itself to dominate.
  s=1000500; e=$((s + 1900000))
  {
    echo
    echo "## Throughput: $name chr20:$s-$e (1.9 Mb, simulated ${depth}x), --threads $THREADS"
    echo
  } >> "$OUT/summary.md"
  hyperfine -w 1 -r 3 --export-markdown "$T/h2.md" \
    -n varstream "$BIN call --ref $ref --reads $bam --region chr20:$s-$e --threads $THREADS -q -o $T/t.vcf.gz" \
    -n bcftools "bcftools mpileup --threads $THREADS -f $ref -r chr20:$s-$e -Ou $bam 2>/dev/null | bcftools call -mv -Oz -o $T/tb.vcf.gz"
  cat "$T/h2.md" >> "$OUT/summary.md"
  b=$( { /usr/bin/time -f "%M" bash -c "bcftools mpileup -f $ref -r chr20:$s-$e -Ou $bam 2>/dev/null | bcftools call -mv -Oz -o $T/tb.vcf.gz"; } 2>&1 | tail -1)
  echo >> "$OUT/summary.md"
  echo "bcftools peak RSS (the bash wrapper's peak): $((b / 1024)) MB" >> "$OUT/summary.md"
fi
cat "$OUT/summary.md"
