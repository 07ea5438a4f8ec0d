#!/usr/bin/env bash
# Speed and memory at scale (issue 12): varstream, `bcftools mpileup | bcftools call` and
# freebayes on the same reads and threads, plus `samtools view -c` as the decode floor.
#
#   benches/genome_scale.sh        # results in benches/results/genome_scale.md
#
# Data (built once, deterministically, by scripts/simulate_training.sh --bench into work/bench/,
# 22 minutes on 2 cores; the benchmark itself takes about 20): simulated 30x 2x150 HG002 reads
# over the whole 10 Mb of GRCh38 chr20 in ../shared/data/train, with stutter and collapsed paralogs; its 1 Mb
# chr20:5,000,001-6,000,000 (same reads, for the scaling); and the real dev BAM (NA12878 hg19
# chr20:10.0-10.1 Mb, 52x). No accuracy is read from any of it.
#
# Per command: RUNS runs (default 3; FREEBAYES_RUNS for freebayes on 10 Mb, default RUNS; each
# is about 100 s there), median wall, median CPU seconds (user + sys of the whole pipeline),
# largest peak RSS of any one process (GNU time's %M), all with THREADS threads (default 2).
# bcftools is run two ways: as users run it (one `mpileup --threads T | call` pipe: mpileup
# itself is single-threaded, --threads only compresses), and split into T region pieces run
# at once (T processes: the strictest "equal threads"). Ratios are to both.
# Env: THREADS, RUNS, FREEBAYES_RUNS, SKIP_FREEBAYES=1, BENCH_DIR (default work/bench).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/release/varstream
DATA=${VARSTREAM_DATA:-$ROOT/../shared/data}
T=${THREADS:-2}
RUNS=${RUNS:-3}
FB_RUNS=${FREEBAYES_RUNS:-$RUNS}
W=${BENCH_DIR:-$ROOT/work/bench}
OUT=benches/results/genome_scale.md
for tool in samtools bcftools freebayes bgzip /usr/bin/time; do
  command -v $tool >/dev/null || { echo "genome_scale: $tool not found (apt-get install ${tool##*/})" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "genome_scale: $BIN missing (make build)" >&2; exit 1; }
SET=$W/bench_grch38_10mb
[ -s "$SET/reads.bam" ] || bash scripts/simulate_training.sh --bench "$W"
REF=$W/refs/grch38.chr20_and_21_10M.fa
BAM=$SET/reads.bam
DEV=$DATA/na12878_chr20
[ -s "$DEV/NA12878_S1.chr20.10_10p1mb.bam" ] || { echo "genome_scale: $DEV not found (set VARSTREAM_DATA)" >&2; exit 2; }
DEV_BAM=$DEV/NA12878_S1.chr20.10_10p1mb.bam
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
zcat "$DEV/ucsc.hg19.chr20.unittest.fasta.gz" > "$TMP/hg19.fa"; samtools faidx "$TMP/hg19.fa"
DEV_REF=$TMP/hg19.fa

# measure NAME RUNS CMD...: runs CMD (a bash string) RUNS times; appends
# "name median_wall median_cpu max_rss_mb" to $TMP/results.
measure() {
  local name=$1 runs=$2 cmd=$3 i
  local log=$TMP/${name//\//_}.runs
  : > "$log"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" bash -c "$cmd"
    awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4}' "$TMP/t" >> "$log"
  done
  python3 - "$name" "$log" >> "$TMP/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[2])]
wall = statistics.median(float(r[0]) for r in rows)
cpu = statistics.median(float(r[1]) for r in rows)
rss = max(int(r[2]) for r in rows) / 1024
print(sys.argv[1], len(rows), f"{wall:.2f}", f"{cpu:.2f}", f"{rss:.0f}")
EOF
  tail -1 "$TMP/results" >&2
}

# A bash command: bcftools over `region` split into T pieces run at once, then concatenated.
bcftools_split() { # ref bam contig start end out
  local ref=$1 bam=$2 c=$3 s=$4 e=$5 out=$6 i step cmd="" parts=""
  step=$(( (e - s + T) / T ))
  for ((i = 0; i < T; i++)); do
    local a=$(( s + i * step )) b=$(( s + (i + 1) * step - 1 ))
    [ $b -gt $e ] && b=$e
    cmd+="(bcftools mpileup -f $ref -r $c:$a-$b -Ou $bam 2>/dev/null | bcftools call -mv -Ob -o $out.$i.bcf) & "
    parts+=" $out.$i.bcf"
  done
  echo "${cmd}wait && bcftools concat -Oz -o $out$parts"
}

run_set() { # label ref bam region contig start end fb_runs
  local label=$1 ref=$2 bam=$3 region=$4 c=$5 s=$6 e=$7 fb=$8
  measure "$label/samtools-view-c" "$RUNS" "samtools view -c -@$T $bam $region > /dev/null"
  measure "$label/varstream" "$RUNS" "$BIN call --ref $ref --reads $bam --region $region --threads $T -q -o $TMP/v.vcf.gz"
  measure "$label/bcftools-pipe" "$RUNS" "bcftools mpileup --threads $T -f $ref -r $region -Ou $bam 2>/dev/null | bcftools call -mv -Oz -o $TMP/b.vcf.gz"
  measure "$label/bcftools-${T}proc" "$RUNS" "$(bcftools_split "$ref" "$bam" "$c" "$s" "$e" "$TMP/bs.vcf.gz")"
  if [ "${SKIP_FREEBAYES:-0}" != 1 ]; then
    measure "$label/freebayes" "$fb" "freebayes -f $ref -r $region $bam > $TMP/f.vcf"
  fi
  zcat "$TMP/v.vcf.gz" | grep -vc '^#' > "$TMP/$label.records" || true
}

: > "$TMP/results"
run_set 1mb "$REF" "$BAM" chr20:5000001-6000000 chr20 5000001 6000000 "$RUNS"
run_set 10mb "$REF" "$BAM" chr20:1-10000000 chr20 1 10000000 "$FB_RUNS"
run_set dev "$DEV_REF" "$DEV_BAM" chr20:10000000-10100000 chr20 10000000 10100000 "$RUNS"

reads_10mb=$(samtools view -c -F 0x900 "$BAM")
python3 - "$TMP/results" "$T" "$reads_10mb" > "$TMP/tables.md" <<'EOF'
import sys
rows = {}
for l in open(sys.argv[1]):
    name, n, wall, cpu, rss = l.split()
    rows[name] = (int(n), float(wall), float(cpu), int(rss))
T = sys.argv[2]
sets = [("10mb", "simulated HG002 30x 2x150, GRCh38 chr20:1-10,000,000"),
        ("1mb", "the same reads, chr20:5,000,001-6,000,000"),
        ("dev", "real NA12878 52x 2x101, hg19 chr20:10.0-10.1 Mb")]
for key, what in sets:
    print(f"### {key}: {what}\n")
    print("| command | runs | median wall (s) | median CPU (s) | peak RSS (MB) | wall / bcftools pipe | wall / bcftools "
          f"{T} proc | CPU / bcftools CPU |")
    print("|---|---|---|---|---|---|---|---|")
    bp = rows.get(f"{key}/bcftools-pipe")
    bs = rows.get(f"{key}/bcftools-{T}proc")
    for tool in ["samtools-view-c", "varstream", "bcftools-pipe", f"bcftools-{T}proc", "freebayes"]:
        r = rows.get(f"{key}/{tool}")
        if not r:
            continue
        n, wall, cpu, rss = r
        print(f"| {tool} | {n} | {wall:.2f} | {cpu:.2f} | {rss} | {wall / bp[1]:.3f} | {wall / bs[1]:.3f} | {cpu / bp[2]:.3f} |")
    v, floor = rows.get(f"{key}/varstream"), rows.get(f"{key}/samtools-view-c")
    if v and floor:
        print(f"\nvarstream wall / decode floor (`samtools view -c -@{T}`): {v[1] / floor[1]:.1f}x\n")
v1, v10 = rows["1mb/varstream"], rows["10mb/varstream"]
b1, b10 = rows["1mb/bcftools-pipe"], rows["10mb/bcftools-pipe"]
print("### Scaling 1 Mb -> 10 Mb\n")
print(f"varstream wall x{v10[1] / v1[1]:.1f}, CPU x{v10[2] / v1[2]:.1f}, peak RSS {v1[3]} -> {v10[3]} MB; "
      f"bcftools wall x{b10[1] / b1[1]:.1f}.\n")
# A 30x human genome: about 2.9 Gb of non-N GRCh38 sequence; chr20:1-10 Mb has about 9.94 Mb.
cpu_per_mb = v10[2] / 9.94
print("### Projection to a 30x human genome\n")
print(f"varstream used {v10[2]:.0f} CPU-s for 10 Mb ({sys.argv[3]} reads): {cpu_per_mb:.2f} CPU-s per Mb of "
      f"non-N sequence, so about {cpu_per_mb * 2900 / 3600:.1f} CPU-hours for 2.9 Gb; bcftools "
      f"{b10[2] / 9.94 * 2900 / 3600:.1f} CPU-hours. DeepVariant 1.10 publishes about 110 vCPU-hours "
      "(HG003 35x, VCF + gVCF, 96 vCPU; ../shared/ANCHORS.md). A linear projection from one chromosome arm's "
      "simulated reads: real genomes add centromeres, satellites and decoys that this does not have.\n")
EOF

{
  echo "# Genome-scale benchmark"
  echo
  echo "Produced by \`benches/genome_scale.sh\` (\`make bench\`) on $(date -u +%F), varstream $(git rev-parse --short HEAD),"
  echo "$(bcftools --version | head -1), freebayes $(freebayes --version | awk '{print $2}'), $(samtools --version | head -1)."
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB; --threads $T for every tool that takes it."
  echo "Records written by varstream: 10 Mb $(cat "$TMP/10mb.records"), 1 Mb $(cat "$TMP/1mb.records"), dev $(cat "$TMP/dev.records")."
  echo
  cat "$TMP/tables.md"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
