#!/usr/bin/env bash
# Simulates Illumina reads of a KNOWN diploid genome (real reference sequence + real GIAB
# truth genotypes), so that every training label is exact.
#
# Usage:
#   scripts/simulate_training.sh OUTDIR            # all training data sets (DATASETS below)
#   scripts/simulate_training.sh --tiny OUTDIR     # one tiny data set for `make demo` (< 1 min),
#                                                  # from the committed slice in data/demo/
#                                                  # (no VARSTREAM_DATA needed)
#   scripts/simulate_training.sh --holdout OUTDIR  # held-out sets for end-to-end accuracy
#                                                  # (never in the training manifest)
#   scripts/simulate_training.sh --depths OUTDIR   # 6x-60x sets: calibration (cal_*) and the
#                                                  # per-depth accuracy table (depth_*)
#   scripts/simulate_training.sh --lowdepth OUTDIR # two training regions at 40x with stutter,
#                                                  # to be downsampled into 4x-40x training sets
#                                                  # (scripts/build_lowdepth.sh)
#   scripts/simulate_training.sh --fresh OUTDIR    # 6x-60x sets of another sample and build
#                                                  # that nothing was trained, fitted or chosen
#                                                  # on: a last check of calibration and depth
#   scripts/simulate_training.sh --bench OUTDIR    # the whole 10 Mb of chr20 at 30x, 2x150,
#                                                  # stutter + collapsed paralogs: the
#                                                  # genome-scale benchmark (benches/genome_scale.sh)
# Environment:
#   VARSTREAM_DATA  data directory (default: ../shared/data relative to the repo root);
#                   not read by --tiny, whose row's paths are relative to data/demo/
#   SIM_ONLY=name   build only that data set (comma-separated list allowed)
#   SIM_SCALE=0.1   shrink every region's length by this factor (quick smoke run)
#   SIM_THREADS=2   threads for bwa mem / samtools sort
#   SIM_KEEP_TMP=1  keep OUTDIR/NAME/tmp (haplotype FASTAs, FASTQs, logs)
#   SIM_STUTTER=0|1 force stutter off/on for every data set built (default: the row's
#                   `stutter` column; see below)
#   SIM_PARALOG=0|1 force collapsed-paralog reads off/on (default: the row's `paralog` column)
#   SIM_SEED_ADD=900 add this to every row's seed: the same regions and truth, other reads
#                   (the read tier's training data, so that the first tier it corrects was
#                   not trained on these very reads)
#   SIM_STUTTER_ARGS="--hp-b 0.4 ..."  extra flags for scripts/add_stutter.py (default none:
#                   its documented default rates)
#
# Output, per data set, OUTDIR/NAME/:
#   reads.bam(.bai)       ART reads of both haplotypes (plus stutter, if on), bwa mem against
#                         the whole reference
#   truth.vcf.gz(.tbi)    exactly the variants applied to the haplotypes (left-normalised,
#                         multi-allelic records kept joined, FORMAT/GT only)
#   regions.bed           the simulated region shrunk by 500 bp per side (full coverage there)
#   sim_info.txt          provenance: sources, region, seeds, counts, dropped records
# plus one line per data set in OUTDIR/manifest.tsv (a rebuilt set replaces its old line).
#
# THE RULE: nothing from chr20:9,900,000-10,200,000 (GRCh37/hg19) may be used for training;
# every GRCh37 data set is checked against that window before anything is built.
set -euo pipefail

# ---------------------------------------------------------------------------------------
# Data sets. Columns (whitespace separated; paths relative to $VARSTREAM_DATA):
#   name  ref.fa.gz  contig  start  end  truth.vcf.gz  truth_contig  depth  seed  build  sample  index  [stutter [paralog [read_len]]]
# start/end: 1-based inclusive region that reads are simulated from (before SIM_SCALE).
# truth_contig: the contig's name inside the truth VCF (renamed to `contig` when different).
# index: `whole` = bwa index of the whole reference FASTA (realistic mapping: reads may go
#        elsewhere); `slice:N` = only N bp around the region, the rest of the contig
#        N-masked so coordinates and contig name stay true (index builds in seconds).
# stutter: optional, 1 = pass the ART FASTQs through scripts/add_stutter.py before bwa mem
#        (+-1 unit length errors in homopolymers >= 5 bp and 2/3 bp-unit STRs >= 4 copies,
#        length-dependent rate; see that script's header), 0 or absent = plain ART reads.
#        ART has no repeat-dependent indel errors, so without it a model never sees the
#        low-fraction stutter indel candidates of real Illumina data in homopolymers/STRs.
#        The truth is unchanged (stutter is read error). Seeds: SEED*1000 + 10*hap + mate.
#        The original rows (built before stutter existed) stay 0 so they rebuild
#        byte-identically; the *_st rows and the tiny demo set use 1.
#        2 = the "strong" preset (STRONG_STUTTER_ARGS below): doubled rates, some +-2 unit
#        events and 4 bp-unit STRs, as in PCR-amplified libraries (the *_px rows).
#        Without them the model called low-fraction stutter in long repeats (held-out INDEL
#        F1 0.957-0.977; with them 0.969-0.985, benches/results/holdout.md).
#        3 = "heavy" (HEAVY_STUTTER_ARGS): twice the strong rates, a quarter of events two
#        units long. A stress case for the held-out *_xx set; the held-out *_px set uses 2.
#        Three training sets with it were tried and not kept: better genotypes under stutter,
#        worse on the clean held-out sets (docs/models.md).
# paralog: optional, 1 = add reads of diverged copies of random segments covering
#        3% of the region (scripts/make_paralogs.py), one extra copy deep, aligned with the rest:
#        a collapsed segmental duplication whose PSVs look like low-fraction variants. The
#        truth is unchanged. Seed: SEED*1000 + 500 (segments), SEED*100 + 3 (ART).
#        Only the held-out *_pd set uses it: training on such sets taught the model to
#        reject true hets at 35-45% allele fraction (held-out SNV recall fell), so the
#        shipped model is not trained on them (see the model card in docs/models.md).
#        2 = the same reads, but mis-mapped from a paralog the reference does hold: their
#        MAPQ is set to a uniform 5-35 (seed SEED*1000 + 600), as bwa gives reads that fit
#        two loci almost equally (held-out set *_pm). Two such training sets lifted that
#        held-out set's ALL F1_GT from 0.83 to 0.99 but cost 0.0024 summed F1_GT on the
#        clean held-out sets (mean of 3 seeds), so the shipped model is not trained on them.
# read_len: optional, 2x101 (default) or 2x150 reads (HiSeq 2500 profile either way); with 150
#        bp reads the fragments are 450 +- 50 bp. Sequencing cores mostly run 2x150 now. The
#        held-out *_150 set checks that the 2x101-trained model carries over; three 2x150
#        training sets were tried and not kept (docs/models.md).
# ---------------------------------------------------------------------------------------
DATASETS=(
  "hg002_grch38_a train/grch38.chr20_and_21_10M.fa.gz chr20 1000000 3000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 45 11 GRCh38 HG002 whole"
  "hg002_grch38_b train/grch38.chr20_and_21_10M.fa.gz chr20 5500000 6500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 28 12 GRCh38 HG002 whole"
  "hg001_hg19 na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 10300000 11000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 60 13 GRCh37 HG001 whole"
  "hg002_grch38_c train/grch38.chr20_and_21_10M.fa.gz chr20 3000000 4900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 35 14 GRCh38 HG002 whole"
  "hg002_grch38_d train/grch38.chr20_and_21_10M.fa.gz chr20 7000000 8900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 55 15 GRCh38 HG002 whole"
  "hg002_grch38_e train/grch38.chr20_and_21_10M.fa.gz chr20 9200000 9990000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 20 16 GRCh38 HG002 whole"
  "hg001_hs37d5 train/hs37d5_chr20_1_1000000.fa.gz 20 100000 990000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 40 17 GRCh37 HG001 whole"
  "hg002_grch38_a_st train/grch38.chr20_and_21_10M.fa.gz chr20 1000000 3000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 38 31 GRCh38 HG002 whole 1"
  "hg001_hg19_st na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 10300000 11000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 50 32 GRCh37 HG001 whole 1"
  "hg002_grch38_d_st train/grch38.chr20_and_21_10M.fa.gz chr20 7000000 8900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 45 33 GRCh38 HG002 whole 1"
  "hg002_grch38_b_st train/grch38.chr20_and_21_10M.fa.gz chr20 5500000 6500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 30 34 GRCh38 HG002 whole 1"
  "hg002_grch38_c_st train/grch38.chr20_and_21_10M.fa.gz chr20 3000000 4900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 50 35 GRCh38 HG002 whole 1"
  "hg002_grch38_e_st train/grch38.chr20_and_21_10M.fa.gz chr20 9200000 9990000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 25 36 GRCh38 HG002 whole 1"
  "hg001_hs37d5_st train/hs37d5_chr20_1_1000000.fa.gz 20 100000 990000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 35 37 GRCh37 HG001 whole 1"
  "hg002_grch38_a_px train/grch38.chr20_and_21_10M.fa.gz chr20 1000000 3000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 30 51 GRCh38 HG002 whole 2"
  "hg001_hg19_px na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 10300000 11000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 45 52 GRCh37 HG001 whole 2"
  "hg002_grch38_c_px train/grch38.chr20_and_21_10M.fa.gz chr20 3000000 4900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 60 53 GRCh38 HG002 whole 2"
  "hg002_grch38_e_px train/grch38.chr20_and_21_10M.fa.gz chr20 9200000 9990000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 54 GRCh38 HG002 whole 2"
)
# Held out from training: regions no training set covers, for end-to-end accuracy of the
# shipped model on simulated data (benches/holdout.sh). Never put these in DATASETS.
HOLDOUT_DATASETS=(
  "holdout_grch38 train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 35 41 GRCh38 HG002 whole 1"
  "holdout_grch38_20x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 20 42 GRCh38 HG002 whole 1"
  "holdout_grch38_55x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 55 43 GRCh38 HG002 whole 1"
  "holdout_grch38_pd train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 44 GRCh38 HG002 whole 2 1"
  "holdout_grch38_pm train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 45 GRCh38 HG002 whole 2 2"
  "holdout_grch38_150 train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 35 46 GRCh38 HG002 whole 1 0 150"
  "holdout_grch38_px train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 35 47 GRCh38 HG002 whole 2"
  "holdout_grch38_xx train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 35 48 GRCh38 HG002 whole 3"
)
# Depth sets (`--depths`): calibration of GQ/QUAL and the per-depth accuracy table (issue 13).
# cal_*: chr20:4.9-5.5 Mb, between training sets c and b and in none of them, to fit the
# calibration and choose the LowQual threshold. depth_*: the held-out region 6.5-7.0 Mb at
# other seeds, only to report (never to fit or choose). 2x101, usual stutter.
DEPTH_DATASETS=(
  "cal_grch38_06x train/grch38.chr20_and_21_10M.fa.gz chr20 4900000 5500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 6 61 GRCh38 HG002 whole 1"
  "cal_grch38_10x train/grch38.chr20_and_21_10M.fa.gz chr20 4900000 5500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 10 62 GRCh38 HG002 whole 1"
  "cal_grch38_15x train/grch38.chr20_and_21_10M.fa.gz chr20 4900000 5500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 15 63 GRCh38 HG002 whole 1"
  "cal_grch38_30x train/grch38.chr20_and_21_10M.fa.gz chr20 4900000 5500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 30 64 GRCh38 HG002 whole 1"
  "cal_grch38_60x train/grch38.chr20_and_21_10M.fa.gz chr20 4900000 5500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 60 65 GRCh38 HG002 whole 1"
  "depth_grch38_06x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 6 71 GRCh38 HG002 whole 1"
  "depth_grch38_10x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 10 72 GRCh38 HG002 whole 1"
  "depth_grch38_15x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 15 73 GRCh38 HG002 whole 1"
  "depth_grch38_30x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 30 74 GRCh38 HG002 whole 1"
  "depth_grch38_60x train/grch38.chr20_and_21_10M.fa.gz chr20 6500000 7000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 60 75 GRCh38 HG002 whole 1"
)
# Fresh sets (`--fresh`, issue 13): HG001 on GRCh37 (hg19), chr20:59,777,000-60,000,000, the
# second stretch of sequence in the dev reference (the first is the dev and training region
# near 10 Mb). No training, cal_*, calb_*, depth_* or holdout set covers it, nor any other
# sample or build than HG002/GRCh38 for the calibration; its sets were built after every
# choice of this round, to report only. 2x101, usual stutter, as the depth_* sets.
FRESH_DATASETS=(
  "fresh_hg19_06x na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 59777000 60000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 6 81 GRCh37 HG001 whole 1"
  "fresh_hg19_10x na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 59777000 60000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 10 82 GRCh37 HG001 whole 1"
  "fresh_hg19_15x na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 59777000 60000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 15 83 GRCh37 HG001 whole 1"
  "fresh_hg19_30x na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 59777000 60000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 30 84 GRCh37 HG001 whole 1"
  "fresh_hg19_60x na12878_chr20/ucsc.hg19.chr20.unittest.fasta.gz chr20 59777000 60000000 train/HG001_GRCh37_v3.3.2.chr20_train.vcf.gz 20 60 85 GRCh37 HG001 whole 1"
)
# Low-depth training sources (`--lowdepth`, issue 13): regions b, e, a, d of DATASETS again (no
# cal_*, depth_* or holdout region; never GRCh37 chr20:9.9-10.2 Mb), new seeds, 40x with the
# usual stutter. scripts/build_lowdepth.sh downsamples each (`samtools view -s`) into
# 4x-40x training sets: one simulation gives every depth, so the model sees low coverage
# without hours of re-simulation.
LOWDEPTH_DATASETS=(
  "lowdepth_grch38_b train/grch38.chr20_and_21_10M.fa.gz chr20 5500000 6500000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 91 GRCh38 HG002 whole 1"
  "lowdepth_grch38_e train/grch38.chr20_and_21_10M.fa.gz chr20 9200000 9990000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 92 GRCh38 HG002 whole 1"
  "lowdepth_grch38_a train/grch38.chr20_and_21_10M.fa.gz chr20 1000000 3000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 93 GRCh38 HG002 whole 1"
  "lowdepth_grch38_d train/grch38.chr20_and_21_10M.fa.gz chr20 7000000 8900000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 40 94 GRCh38 HG002 whole 1"
)
# Benchmark set (`--bench`): speed and memory at scale (issue 12), never used for accuracy
# choices. The whole 10 Mb of GRCh38 chr20 in train/ (ART masks its leading N run), 30x 2x150,
# usual stutter and collapsed paralogs, so the candidate load is like real data's.
BENCH_DATASETS=(
  "bench_grch38_10mb train/grch38.chr20_and_21_10M.fa.gz chr20 1 10000000 train/HG002_GRCh38_v4.2.1.chr20_train.vcf.gz chr20 30 81 GRCh38 HG002 whole 1 1 150"
)
# The tiny set reads the committed slice in data/demo/ (data/demo/README.md: cut from the
# train/ files above by data/demo/make_slice.sh; the same sequence and truth records), so the
# demo runs on a fresh clone without ../shared.
TINY_DATASETS=(
  "tiny_grch38 grch38.chr20_6580001-6780000.fa.gz chr20 6660000 6700000 HG002_GRCh38_v4.2.1.chr20_6580001-6780000.vcf.gz chr20 30 21 GRCh38 HG002 slice:200000 1"
)

# Evaluation window (GRCh37/hg19, 1-based inclusive); contig `chr20` or `20`.
FORBID_START=9900000
FORBID_END=10200000

# Stutter column 2: PCR-amplified library (see scripts/add_stutter.py).
STRONG_STUTTER_ARGS="--hp-a 0.004 --str-a 0.002 --two-unit-frac 0.15 --str4"
# Stutter column 3: heavy, a stress case: twice the strong rates (e.g. a 12 bp homopolymer
# reads one unit off in 9 % of reads, a 20 bp dinucleotide STR in 4 %), a quarter of events two
# units long.
HEAVY_STUTTER_ARGS="--hp-a 0.008 --str-a 0.004 --two-unit-frac 0.25 --str4"

# Fixed simulation parameters (the brief: HiSeq 2500 profile, 2x101, 350+-50 bp fragments).
READ_LEN=101
FRAG_MEAN=350
FRAG_SD=50
BED_SHRINK=500          # ART coverage ramps down over ~one fragment length at region ends
MIN_REGION_LEN=5000     # below this SIM_SCALE would leave nothing with full coverage
RG='@RG\tID:sim\tSM:SIM\tPL:ILLUMINA'

die() { echo "simulate_training: ERROR: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------------------------------
mode=full
if [ "${1:-}" = "--tiny" ]; then mode=tiny; shift; fi
if [ "${1:-}" = "--holdout" ]; then mode=holdout; shift; fi
if [ "${1:-}" = "--depths" ]; then mode=depths; shift; fi
if [ "${1:-}" = "--bench" ]; then mode=bench; shift; fi
if [ "${1:-}" = "--lowdepth" ]; then mode=lowdepth; shift; fi
if [ "${1:-}" = "--fresh" ]; then mode=fresh; shift; fi
[ $# -eq 1 ] || die "usage: $0 [--tiny|--holdout|--depths|--bench|--lowdepth|--fresh] OUTDIR"
OUTDIR=$1

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$mode" = tiny ]; then
  DATA=$REPO_ROOT/data/demo
  (cd "$DATA" && md5sum --quiet -c MD5SUMS) >&2 \
    || die "the demo slice in $DATA does not match its MD5SUMS (git checkout -- data/demo)"
else
  DATA=${VARSTREAM_DATA:-$REPO_ROOT/../shared/data}
  [ -d "$DATA" ] || die "data directory '$DATA' not found; set VARSTREAM_DATA to the shared data folder (see its README.md)"
fi
DATA=$(cd "$DATA" && pwd)
THREADS=${SIM_THREADS:-2}
SCALE=${SIM_SCALE:-1}
awk -v s="$SCALE" 'BEGIN{exit !(s+0 > 0 && s+0 <= 1)}' || die "SIM_SCALE must be in (0,1], got '$SCALE'"

for tool in samtools bcftools bgzip tabix bwa art_illumina python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/install_sim_deps.sh"
done

mkdir -p "$OUTDIR/refs"
OUTDIR=$(cd "$OUTDIR" && pwd)
REFS=$OUTDIR/refs
MANIFEST=$OUTDIR/manifest.tsv

case $mode in
  tiny) rows=("${TINY_DATASETS[@]}") ;;
  holdout) rows=("${HOLDOUT_DATASETS[@]}") ;;
  depths) rows=("${DEPTH_DATASETS[@]}") ;;
  bench) rows=("${BENCH_DATASETS[@]}") ;;
  lowdepth) rows=("${LOWDEPTH_DATASETS[@]}") ;;
  fresh) rows=("${FRESH_DATASETS[@]}") ;;
  *) rows=("${DATASETS[@]}") ;;
esac

# Seconds since $1 (an epoch), for the timing log.
since() { echo $(( $(date +%s) - $1 )); }

# ---------------------------------------------------------------------------------------
# Reference preparation: plain FASTA + .fai + bwa index in OUTDIR/refs, built once and
# reused (a `.ok` marker is written only after the index completed, so an interrupted
# build is redone rather than trusted).
# Prints the path of the prepared FASTA.
prepare_ref() {
  local src=$1 contig=$2 start=$3 end=$4 index=$5
  local base; base=$(basename "$src"); base=${base%.gz}; base=${base%.fa}; base=${base%.fasta}
  local fa
  if [ "$index" = whole ]; then
    fa=$REFS/$base.fa
  else
    local slice=${index#slice:}
    [[ "$slice" =~ ^[0-9]+$ ]] || die "bad index column '$index'"
    local mid=$(( (start + end) / 2 ))
    local s=$(( mid - slice / 2 + 1 )); [ "$s" -ge 1 ] || s=1
    local e=$(( s + slice - 1 ))
    fa=$REFS/${base}.${contig}_${s}-${e}_only.fa
  fi
  if [ -f "$fa.ok" ]; then echo "$fa"; return; fi
  local t0; t0=$(date +%s)
  if [ "$index" = whole ]; then
    log "ref: decompressing $src -> $fa"
    # Plain text so that any consumer (bwa, the caller, IGV) reads it without bgzf/.gzi.
    gzip -dc "$DATA/$src" > "$fa.tmp"
  else
    # Keep the contig name and true coordinates but only the slice's sequence, N elsewhere
    # (ART masks N, bwa places no reads there), so the index is tiny yet labels stay in
    # genome coordinates.
    log "ref: $contig:$s-$e of $src, N-masked elsewhere -> $fa"
    local len=$(( e ))
    {
      echo ">$contig"
      { awk -v n=$(( s - 1 )) 'BEGIN{for(i=0;i<n;i++) printf "N"}'
        samtools faidx "$DATA/$src" "$contig:$s-$e" | grep -v '^>' | tr -d '\n'
      } | fold -w 60
      echo
    } > "$fa.tmp"
    [ "$(grep -v '^>' "$fa.tmp" | tr -d '\n' | wc -c)" -eq "$len" ] || die "slice reference has the wrong length"
  fi
  mv "$fa.tmp" "$fa"
  samtools faidx "$fa"
  # bwa picks the slow bwtsw algorithm above ~50 Mb; `is` builds the identical index about
  # 4x faster (hg19 chr20: 67 s instead of 270 s) and works up to 2 GB.
  local algo=bwtsw
  [ "$(stat -c %s "$fa")" -lt 1500000000 ] && algo=is
  log "ref: bwa index -a $algo $fa"
  bwa index -a "$algo" "$fa" > "$fa.bwa_index.log" 2>&1 || { cat "$fa.bwa_index.log" >&2; die "bwa index failed"; }
  touch "$fa.ok"
  log "ref: ready in $(since "$t0") s"
  echo "$fa"
}

# ---------------------------------------------------------------------------------------
# Keeps only records bcftools consensus will apply exactly as written, so the truth file is
# exactly what is in the haplotypes. Input: uncompressed VCF (one sample) on stdin.
# Kept records -> stdout; dropped ones -> $1 with a reason.
select_applicable() {
  awk -v rs="$2" -v re="$3" -v dropped="$1" 'BEGIN{FS=OFS="\t"; last_end=-1}
    /^#/ {print; next}
    function drop(why) { print why, $1, $2, $4, $5, $10 > dropped; n_drop++ }
    {
      ref=toupper($4); end=$2+length($4)-1
      # Records hanging over the region edge cannot be applied to the region FASTA.
      if ($2 < rs || end > re) { drop("outside_region"); next }
      if (ref !~ /^[ACGT]+$/) { drop("ref_not_ACGT"); next }
      nalt=split($5, alts, ",")
      bad=0; for (i=1;i<=nalt;i++) if (toupper(alts[i]) !~ /^[ACGT]+$/) bad=1
      # Symbolic (<DEL>), spanning-deletion (*), missing (.) and N-containing alleles
      # have no exact sequence to put into a haplotype.
      if (bad) { drop("alt_not_ACGT"); next }
      split($10, fmt, ":"); gt=fmt[1]
      na=split(gt, al, /[\/|]/)
      if (na != 2 || al[1] !~ /^[0-9]+$/ || al[2] !~ /^[0-9]+$/) { drop("gt_not_diploid_called"); next }
      if (al[1]+0 > nalt || al[2]+0 > nalt) { drop("gt_allele_out_of_range"); next }
      if (al[1]+0 == 0 && al[2]+0 == 0) { drop("gt_hom_ref"); next }
      # bcftools consensus skips a record whose REF overlaps an already applied one.
      if ($2 <= last_end) { drop("overlaps_previous"); next }
      last_end=end
      print
    }
    END{ if (n_drop == 0) printf "" > dropped }'
}

# ---------------------------------------------------------------------------------------
build_dataset() {
  local name=$1 ref_src=$2 contig=$3 start=$4 end=$5 truth_src=$6 truth_contig=$7
  local depth=$8 seed=$(( $9 + ${SIM_SEED_ADD:-0} )) build=${10} sample=${11} index=${12} stutter=${13:-0} paralog=${14:-0}
  local read_len=${15:-$READ_LEN} frag_mean=$FRAG_MEAN
  case $read_len in 101) ;; 150) frag_mean=450 ;; *) die "$name: read_len must be 101 or 150, got '$read_len'" ;; esac
  [ -n "${SIM_STUTTER:-}" ] && stutter=$SIM_STUTTER
  [ -n "${SIM_PARALOG:-}" ] && paralog=$SIM_PARALOG
  case $stutter in 0|1|2|3) ;; *) die "$name: stutter must be 0, 1, 2 or 3, got '$stutter'" ;; esac
  [ "$paralog" = 0 ] || [ "$paralog" = 1 ] || [ "$paralog" = 2 ] || die "$name: paralog must be 0, 1 or 2, got '$paralog'"
  local stutter_args=${SIM_STUTTER_ARGS:-}
  [ "$stutter" = 2 ] && stutter_args="$STRONG_STUTTER_ARGS $stutter_args"
  [ "$stutter" = 3 ] && stutter_args="$HEAVY_STUTTER_ARGS $stutter_args"
  local T0; T0=$(date +%s)

  # SIM_SCALE keeps the start and shrinks the length.
  local len=$(( end - start + 1 ))
  if [ "$SCALE" != 1 ]; then
    len=$(awk -v l="$len" -v s="$SCALE" 'BEGIN{printf "%d", l*s}')
    [ "$len" -ge "$MIN_REGION_LEN" ] || len=$MIN_REGION_LEN
    end=$(( start + len - 1 ))
  fi

  # THE RULE. Checked on the (scaled) region and again on every truth record below.
  if [ "$build" = GRCh37 ] || [ "$build" = hg19 ]; then
    if [ "$contig" = chr20 ] || [ "$contig" = 20 ]; then
      if [ "$start" -le "$FORBID_END" ] && [ "$end" -ge "$FORBID_START" ]; then
        die "$name: region $contig:$start-$end intersects the evaluation window chr20:$FORBID_START-$FORBID_END"
      fi
    fi
  fi
  [ -f "$DATA/$ref_src" ] || die "$name: missing $DATA/$ref_src"
  [ -f "$DATA/$truth_src" ] || die "$name: missing $DATA/$truth_src"

  log "=== $name: $contig:$start-$end ($len bp), depth $depth, seed $seed, build $build, stutter $stutter, paralog $paralog"
  local out=$OUTDIR/$name tmp=$OUTDIR/$name/tmp
  rm -rf "$out"; mkdir -p "$tmp"
  local timings=$out/timings.tsv; : > "$timings"
  local t

  # -- reference ------------------------------------------------------------------------
  t=$(date +%s)
  local ref; ref=$(prepare_ref "$ref_src" "$contig" "$start" "$end" "$index")
  grep -q "^$contig	" "$ref.fai" || die "$name: contig $contig not in $ref"
  local clen; clen=$(awk -v c="$contig" '$1==c{print $2}' "$ref.fai")
  [ "$end" -le "$clen" ] || die "$name: region end $end beyond $contig length $clen"
  printf 'reference\t%s\n' "$(since "$t")" >> "$timings"

  # -- variants actually applied ----------------------------------------------------------
  t=$(date +%s)
  samtools faidx "$ref" "$contig:$start-$end" > "$tmp/region.fa"
  local nN; nN=$(grep -v '^>' "$tmp/region.fa" | tr -cd 'Nn' | wc -c)
  # A region that is mostly N would silently give little coverage and few labels.
  awk -v n="$nN" -v l="$len" 'BEGIN{exit !(n/l > 0.01)}' && die "$name: region is $nN/$len N"

  printf '%s\t%s\n' "$truth_contig" "$contig" > "$tmp/rename.txt"
  # Cut with margin so indels that start just left of the region are seen, then keep only
  # what lies fully inside (select_applicable). -a drops ALT alleles no genotype uses; the
  # header's contig lines are replaced by the reference's so names and lengths match it.
  # Normalising BEFORE selection means truth == applied records, byte for byte.
  bcftools view -a -r "$truth_contig:$(( start > 1000 ? start - 1000 : 1 ))-$(( end + 1000 ))" "$DATA/$truth_src" -Ou \
    | bcftools annotate --rename-chrs "$tmp/rename.txt" -x INFO,^FORMAT/GT -Ov -o "$tmp/cut.vcf"
  { grep '^##' "$tmp/cut.vcf" | grep -v '^##contig='
    awk -F'\t' '{printf "##contig=<ID=%s,length=%s>\n", $1, $2}' "$ref.fai"
    grep -v '^##' "$tmp/cut.vcf"
  } > "$tmp/cut.reheadered.vcf"
  bcftools norm -f "$ref" --check-ref e -Ov "$tmp/cut.reheadered.vcf" 2> "$tmp/norm.log" \
    | bcftools sort -Ov -T "$tmp/bcfsort" 2> "$tmp/bcfsort.log" \
    | select_applicable "$tmp/dropped.tsv" "$start" "$end" > "$tmp/applied.vcf"
  local nrec; nrec=$(grep -vc '^#' "$tmp/applied.vcf" || true)
  [ "$nrec" -gt 0 ] || die "$name: no truth variants in region"
  # Second line of defence for THE RULE: no label may come from the evaluation window.
  if [ "$build" = GRCh37 ] || [ "$build" = hg19 ]; then
    awk -v a="$FORBID_START" -v b="$FORBID_END" '!/^#/ && ($1=="chr20"||$1=="20") && $2+length($4)-1>=a && $2<=b {bad++} END{exit bad>0}' \
      "$tmp/applied.vcf" || die "$name: truth record inside the evaluation window"
  fi
  bgzip -c "$tmp/applied.vcf" > "$tmp/applied.vcf.gz"
  tabix -f -p vcf "$tmp/applied.vcf.gz"

  # Expected number of records carrying a non-REF allele on each haplotype (GT order;
  # unphased 0/1 therefore puts ALT on haplotype 2).
  local exp1 exp2
  exp1=$(awk -F'\t' '!/^#/{split($10,f,":"); split(f[1],a,/[\/|]/); if (a[1]>0) n++} END{print n+0}' "$tmp/applied.vcf")
  exp2=$(awk -F'\t' '!/^#/{split($10,f,":"); split(f[1],a,/[\/|]/); if (a[2]>0) n++} END{print n+0}' "$tmp/applied.vcf")
  printf 'select_variants\t%s\n' "$(since "$t")" >> "$timings"

  # -- haplotypes -----------------------------------------------------------------------
  t=$(date +%s)
  local h exp
  for h in 1 2; do
    bcftools consensus -f "$tmp/region.fa" -H "$h" "$tmp/applied.vcf.gz" > "$tmp/hap$h.raw.fa" 2> "$tmp/consensus$h.log" \
      || { cat "$tmp/consensus$h.log" >&2; die "$name: bcftools consensus -H $h failed"; }
    # Any skipped/overlapping record means the labels would not match the reads.
    if grep -qiE 'skip|overlap|warn' "$tmp/consensus$h.log"; then
      cat "$tmp/consensus$h.log" >&2; die "$name: bcftools consensus -H $h skipped records (selection filter is wrong)"
    fi
    if [ "$h" = 1 ]; then exp=$exp1; else exp=$exp2; fi
    grep -q "^Applied $exp variants" "$tmp/consensus$h.log" \
      || { cat "$tmp/consensus$h.log" >&2; die "$name: haplotype $h: expected to apply $exp variants"; }
    # Read names become hap1-r<N>/hap2-r<N>: the haplotype of every read stays traceable.
    sed "1s/^>.*/>hap$h/" "$tmp/hap$h.raw.fa" > "$tmp/hap$h.fa"
    rm -f "$tmp/hap$h.raw.fa"
  done
  printf 'consensus\t%s\n' "$(since "$t")" >> "$timings"

  # -- reads ----------------------------------------------------------------------------
  t=$(date +%s)
  local half; half=$(awk -v d="$depth" 'BEGIN{print d/2}')
  for h in 1 2; do
    # Distinct fixed seeds per haplotype: identical seeds would sample the same fragment
    # positions on both haplotypes.
    art_illumina -ss HS25 -l "$read_len" -p -m "$frag_mean" -s "$FRAG_SD" -f "$half" -na \
      -rs $(( seed * 100 + h )) -d r -i "$tmp/hap$h.fa" -o "$tmp/hap${h}_" > "$tmp/art$h.log" 2>&1 \
      || { cat "$tmp/art$h.log" >&2; die "$name: art_illumina failed"; }
  done
  local sources="hap1 hap2"
  if [ "$paralog" != 0 ]; then
    python3 "$REPO_ROOT/scripts/make_paralogs.py" --seed $(( seed * 1000 + 500 )) --offset "$start" \
      --fraction 0.03 --fasta "$tmp/region.fa" --out "$tmp/para.fa" --summary "$tmp/paralog.txt" 2> "$tmp/paralog.log" \
      || { cat "$tmp/paralog.log" >&2; die "$name: make_paralogs.py failed"; }
    # One extra copy: half the diploid depth.
    art_illumina -ss HS25 -l "$read_len" -p -m "$frag_mean" -s "$FRAG_SD" -f "$half" -na \
      -rs $(( seed * 100 + 3 )) -d p -i "$tmp/para.fa" -o "$tmp/para_" > "$tmp/art_para.log" 2>&1 \
      || { cat "$tmp/art_para.log" >&2; die "$name: art_illumina (paralogs) failed"; }
    sources="hap1 hap2 para"
  fi
  printf 'art\t%s\n' "$(since "$t")" >> "$timings"

  # -- stutter (optional): +-1 repeat-unit errors, each FASTQ independently ---------------
  local fq=fq
  if [ "$stutter" != 0 ]; then
    t=$(date +%s)
    local m
    local src h
    for src in $sources; do
      # Seed per source: hap1/hap2 as before (so old rows rebuild identically), para = 3.
      case $src in hap1) h=1 ;; hap2) h=2 ;; *) h=3 ;; esac
      for m in 1 2; do
        # shellcheck disable=SC2086
        python3 "$REPO_ROOT/scripts/add_stutter.py" --seed $(( seed * 1000 + 10 * h + m )) $stutter_args \
          -i "$tmp/${src}_$m.fq" -o "$tmp/${src}_$m.st.fq" --summary "$tmp/stutter_${src}_$m.txt" \
          2> "$tmp/stutter_${src}_$m.log" || { cat "$tmp/stutter_${src}_$m.log" >&2; die "$name: add_stutter.py failed"; }
        rm -f "$tmp/${src}_$m.fq"
      done
    done
    fq=st.fq
    printf 'stutter\t%s\n' "$(since "$t")" >> "$timings"
  fi

  t=$(date +%s)
  # Against the whole reference, not just the region: mapping to the region alone would
  # be unrealistically clean (no paralogous competition, no mismapping).
  bwa mem -t "$THREADS" -R "$RG" "$ref" \
      <(for src in $sources; do cat "$tmp/${src}_1.$fq"; done) \
      <(for src in $sources; do cat "$tmp/${src}_2.$fq"; done) 2> "$tmp/bwa.log" \
    | awk -F'\t' -v OFS='\t' -v pm="$paralog" -v seed=$(( seed * 1000 + 600 )) 'BEGIN{srand(seed)}
        pm == 2 && !/^@/ && $1 ~ /^paralog/ && $5 > 0 {$5 = 5 + int(rand() * 31)} {print}' \
    | samtools sort -@ "$THREADS" -m 512M -T "$tmp/sort" -o "$out/reads.bam" - 2> "$tmp/sort.log"
  samtools index "$out/reads.bam"
  printf 'bwa_mem_sort\t%s\n' "$(since "$t")" >> "$timings"

  # -- labels, bed, provenance ------------------------------------------------------------
  t=$(date +%s)
  # Sample column named after the source genome; the BAM's SM is SIM.
  echo "$sample" > "$tmp/sample.txt"
  bcftools reheader -s "$tmp/sample.txt" "$tmp/applied.vcf.gz" -o "$out/truth.vcf.gz"
  tabix -f -p vcf "$out/truth.vcf.gz"
  printf '%s\t%d\t%d\n' "$contig" $(( start - 1 + BED_SHRINK )) $(( end - BED_SHRINK )) > "$out/regions.bed"

  local nsnv nindel nmulti nreads
  nsnv=$(bcftools view -H -v snps "$out/truth.vcf.gz" | wc -l)
  nindel=$(bcftools view -H -v indels "$out/truth.vcf.gz" | wc -l)
  nmulti=$(bcftools view -H -m3 "$out/truth.vcf.gz" | wc -l)
  nreads=$(samtools view -c "$out/reads.bam")
  {
    echo "name=$name"
    echo "build=$build"
    echo "source_sample=$sample"
    echo "reference_source=$DATA/$ref_src"
    echo "reference=$ref"
    echo "bwa_index=$index"
    echo "truth_source=$DATA/$truth_src"
    echo "region=$contig:$start-$end"
    echo "regions_bed=$contig:$(( start + BED_SHRINK ))-$(( end - BED_SHRINK ))"
    echo "sim_scale=$SCALE"
    echo "depth=$depth"
    echo "art=art_illumina -ss HS25 -l $read_len -p -m $frag_mean -s $FRAG_SD -f $half -na -rs $(( seed * 100 + 1 ))/$(( seed * 100 + 2 ))"
    echo "stutter=$stutter"
    if [ "$stutter" != 0 ]; then
      echo "stutter_tool=scripts/add_stutter.py $stutter_args"
      echo "stutter_seeds=$(( seed * 1000 + 11 ))/$(( seed * 1000 + 12 ))/$(( seed * 1000 + 21 ))/$(( seed * 1000 + 22 )) (hap1_1/hap1_2/hap2_1/hap2_2)"
      sed -n 's/^params=/stutter_params=/p' "$tmp/stutter_hap1_1.txt"
      # Totals over the FASTQs.
      cat "$tmp"/stutter_*_?.txt | tr ' ' '\n' | grep -E '^(reads|reads_changed|bases_in|bases_out|runs_[a-z0-9]+|(hp|str2|str3|str4)_(ins|del))=' \
        | awk -F= '{s[$1]+=$2; if(!($1 in o)){o[$1]=++n; k[n]=$1}} END{for(i=1;i<=n;i++) printf "stutter_%s=%d\n", k[i], s[k[i]]}'
    fi
    echo "paralog=$paralog"
    if [ "$paralog" != 0 ]; then
      [ "$paralog" = 2 ] && echo "paralog_mapq=uniform 5-35, awk srand($(( seed * 1000 + 600 )))"
      echo "paralog_tool=scripts/make_paralogs.py --seed $(( seed * 1000 + 500 )); art -rs $(( seed * 100 + 3 )) -f $half"
      sed 's/^/paralog_/' "$tmp/paralog.txt"
    fi
    echo "bwa=bwa mem -t $THREADS -R $RG"
    echo "truth_records=$nrec"
    echo "truth_snv_records=$nsnv"
    echo "truth_indel_records=$nindel"
    echo "truth_multiallelic_records=$nmulti"
    echo "hap1_nonref_records=$exp1"
    echo "hap2_nonref_records=$exp2"
    echo "dropped_records=$(wc -l < "$tmp/dropped.tsv")"
    cut -f1 "$tmp/dropped.tsv" | sort | uniq -c | awk '{print "dropped_" $2 "=" $1}'
    echo "norm_log=$(tr '\n' ' ' < "$tmp/norm.log")"
    echo "reads=$nreads"
    echo "tools=$(samtools --version | head -1); $(bcftools --version | head -1); bwa $(bwa 2>&1 | awk '/^Version/{print $2}'); art_illumina $(art_illumina 2>&1 | awk '/Version/{print $3}' | head -1)"
  } > "$out/sim_info.txt"
  # Dropped records (reason, chrom, pos, ref, alt, sample) are kept for inspection.
  cp "$tmp/dropped.tsv" "$out/dropped.tsv"

  # Manifest: header once; a rebuilt data set replaces its own line.
  if [ ! -s "$MANIFEST" ]; then
    printf 'name\tref\tbam\ttruth\tbed\tdepth\tbuild\tsample\n' > "$MANIFEST"
  fi
  awk -F'\t' -v n="$name" 'NR==1 || $1!=n' "$MANIFEST" > "$MANIFEST.tmp"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ref" "$out/reads.bam" "$out/truth.vcf.gz" \
    "$out/regions.bed" "$depth" "$build" "$sample" >> "$MANIFEST.tmp"
  mv "$MANIFEST.tmp" "$MANIFEST"

  [ "${SIM_KEEP_TMP:-0}" = 1 ] || rm -rf "$tmp"
  printf 'labels_manifest\t%s\n' "$(since "$t")" >> "$timings"
  printf 'total\t%s\n' "$(since "$T0")" >> "$timings"
  log "$name: $nrec truth records ($nsnv SNV, $nindel indel, $nmulti multi-allelic), $nreads reads, $(since "$T0") s"
  log "$name: timings: $(tr '\t\n' '= ' < "$timings")"
}

# ---------------------------------------------------------------------------------------
only=${SIM_ONLY:-}
built=0
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  set -- $row
  [ $# -ge 12 ] && [ $# -le 15 ] || die "data set row has $# columns, expected 12 to 15: $row"
  if [ -n "$only" ] && [[ ",$only," != *",$1,"* ]]; then continue; fi
  build_dataset "$@"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || die "no data set matched SIM_ONLY='$only'"
log "done: $built data set(s); manifest $MANIFEST"
