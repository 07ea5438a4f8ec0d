#!/usr/bin/env bash
# Cuts the committed demo slice (this folder) from the project's shared data. Not run by the
# demo: its output is committed, so `make demo` needs no ../shared. Kept so the slice can be
# checked or rebuilt (`bash data/demo/make_slice.sh`, then `git diff` shows nothing).
#   - GRCh38 chr20 with only 6,580,001-6,780,000 kept and every other base N, so the contig
#     name and coordinates stay true (the same sequence scripts/simulate_training.sh's
#     `slice:200000` index uses for the tiny set), bgzipped, with .fai and .gzi;
#   - the GIAB v4.2.1 HG002 truth VCF (+ .tbi) and confident BED, cut to that interval.
# GRCh38 coordinates, far from the evaluation window (chr20:9.9-10.2 Mb of GRCh37).
# Environment: VARSTREAM_DATA (default ../shared/data beside the repository).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
CONTIG=chr20
START=6580001   # 1-based, inclusive
END=6780000
REF_SRC=$DATA/train/grch38.chr20_and_21_10M.fa.gz
VCF_SRC=$DATA/train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz
BED_SRC=$DATA/train/HG002_GRCh38_v4.2.1.chr20_train.bed
TAG=${CONTIG}_${START}-${END}
for f in "$REF_SRC" "$VCF_SRC" "$BED_SRC"; do [ -s "$f" ] || { echo "make_slice: missing $f" >&2; exit 1; }; done
cd "$HERE"

# Reference: N up to START-1, then the slice, 60 bases a line; bgzip -i writes the .gzi.
{
  echo ">$CONTIG"
  { awk -v n=$(( START - 1 )) 'BEGIN{for(i=0;i<n;i++) printf "N"}'
    samtools faidx "$REF_SRC" "$CONTIG:$START-$END" | grep -v '^>' | tr -d '\n'
  } | fold -w 60
} | bgzip -c -i -I "grch38.$TAG.fa.gz.gzi" > "grch38.$TAG.fa.gz"
samtools faidx "grch38.$TAG.fa.gz"

# Truth: records starting inside the slice; the header is the source's, with bcftools' own
# command lines left out so the file does not depend on where it was cut.
bcftools view --no-version -r "$CONTIG:$START-$END" "$VCF_SRC" -Oz -o "HG002_GRCh38_v4.2.1.$TAG.vcf.gz"
tabix -f -p vcf "HG002_GRCh38_v4.2.1.$TAG.vcf.gz"

# Confident regions clipped to the slice (BED is 0-based, half-open).
awk -v c="$CONTIG" -v s=$(( START - 1 )) -v e="$END" 'BEGIN{FS=OFS="\t"}
  $1 == c && $3 > s && $2 < e {print $1, ($2 < s ? s : $2), ($3 > e ? e : $3)}' "$BED_SRC" \
  > "HG002_GRCh38_v4.2.1.$TAG.bed"

md5sum "grch38.$TAG.fa.gz" "grch38.$TAG.fa.gz.fai" "grch38.$TAG.fa.gz.gzi" \
  "HG002_GRCh38_v4.2.1.$TAG.vcf.gz" "HG002_GRCh38_v4.2.1.$TAG.vcf.gz.tbi" \
  "HG002_GRCh38_v4.2.1.$TAG.bed" > MD5SUMS
cat MD5SUMS
