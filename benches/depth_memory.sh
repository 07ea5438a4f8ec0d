#!/usr/bin/env bash
# Peak memory and wall time of `varstream call` at extreme depth (a benchmark, not a test:
# figures vary by machine and load). Peak RSS should follow --max-depth x --shard-size, not raw
# depth: the 5,000x and 30,000x cases should stay within 2x of a 30x region of the same length.
#
# Data (benches/depth_data.py, fixed seed, no ../shared): one reference and one BAM with
#   chrM     16,569 bp at 5,000x, 20 planted SNVs/indels (chrM-like: random, homopolymers);
#   chr30x   200 kb at 30x, 40 planted variants (the baseline: 16.5 kb, 100 kb, 200 kb of it);
#   chrPile  100 kb at 30x plus 30,000 read pairs stacked over ~1 kb (30,000x at its centre).
# It is cached in work/bench-depth/<checksum of depth_data.py>/, so reruns skip generation.
#
# Each case runs RUNS times (median wall and peak RSS from /usr/bin/time); the 5,000x case runs
# once more with --max-depth 1000. Planted-variant recall comes from benches/depth_recall.py.
# Writes benches/results/depth_memory.md (DEPTH_RESULTS overrides), comparing with
# benches/results/depth_memory_baseline.md (the code before the fix) when that exists.
#
# Environment: VARSTREAM_BIN (default target/release/varstream), VARSTREAM_COMMIT (default:
# this checkout's HEAD when the binary is its own), RUNS (3), THREADS (2), MAX_DEPTH (250),
# SHARD_SIZE (25000), DEPTH_CACHE (work/bench-depth), DEPTH_RESULTS, DEPTH_NOTE (a line of text
# put under the title).
# Needs: python3, samtools, /usr/bin/time (installed here if missing), ONNX Runtime (make setup).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${VARSTREAM_BIN:-$ROOT/target/release/varstream}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
MAX_DEPTH=${MAX_DEPTH:-250}
SHARD_SIZE=${SHARD_SIZE:-25000}
CACHE=${DEPTH_CACHE:-$ROOT/work/bench-depth}
RESULTS=${DEPTH_RESULTS:-$ROOT/benches/results/depth_memory.md}
BASELINE=$ROOT/benches/results/depth_memory_baseline.md  # compared against when present
GEN=$ROOT/benches/depth_data.py
START=$(date +%s)

[ -x "$BIN" ] || { echo "depth_memory: $BIN not found (make build, or set VARSTREAM_BIN)" >&2; exit 2; }
"$BIN" --version >/dev/null
command -v samtools >/dev/null || { echo "depth_memory: samtools not found (make setup)" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi

# --- data, cached by the generator's checksum ---------------------------------------------
KEY=$(sha256sum "$GEN" | cut -c1-16)
DATA=$CACHE/$KEY
if [ ! -e "$DATA/complete" ]; then
  echo "depth_memory: generating $DATA" >&2
  TMPD=$CACHE/.tmp-$KEY-$$
  rm -rf "$TMPD"; mkdir -p "$TMPD"
  t0=$(date +%s.%N)
  python3 "$GEN" --out "$TMPD" | samtools sort -@ "$THREADS" -m 512M -l 6 -T "$TMPD/sort" -o "$TMPD/reads.bam" -
  samtools index "$TMPD/reads.bam"
  samtools faidx "$TMPD/ref.fa"
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f\n", b - a}' > "$TMPD/generate_seconds"
  touch "$TMPD/complete"
  rm -rf "$DATA"; mv "$TMPD" "$DATA"
  GENERATED="generated in $(cat "$DATA/generate_seconds") s by this run"
else
  GENERATED="reused (generated in $(cat "$DATA/generate_seconds") s when first made)"
fi
REF=$DATA/ref.fa
BAM=$DATA/reads.bam
CALLS=$CACHE/last-run
rm -rf "$CALLS"; mkdir -p "$CALLS"

if [ -n "${VARSTREAM_COMMIT:-}" ]; then
  COMMIT=$VARSTREAM_COMMIT
elif [ "$BIN" = "$ROOT/target/release/varstream" ]; then
  SRC=(src Cargo.toml Cargo.lock build.rs models)
  COMMIT="$(git rev-parse --short HEAD) (varstream sources as of $(git log -1 --format=%h -- "${SRC[@]}"))"
  git diff --quiet HEAD -- "${SRC[@]}" 2>/dev/null || COMMIT="$COMMIT + uncommitted changes"
else
  COMMIT="unknown (set VARSTREAM_COMMIT)"
fi
BINSUM=$(sha256sum "$BIN" | cut -c1-12)
BINTIME=$(date -u -r "$BIN" '+%F %H:%M UTC')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# name | region | --max-depth | 30x case of the same length (for the RSS ratio)
CASES=(
  "30x, 16.5 kb|chr30x:50001-66569|$MAX_DEPTH|30x, 16.5 kb"
  "30x, 100 kb|chr30x:50001-150000|$MAX_DEPTH|30x, 100 kb"
  "30x, 200 kb|chr30x:1-200000|$MAX_DEPTH|30x, 200 kb"
  "5,000x chrM, 16.5 kb|chrM:1-16569|$MAX_DEPTH|30x, 16.5 kb"
  "5,000x chrM, 16.5 kb|chrM:1-16569|1000|30x, 16.5 kb"
  "30,000x pile-up, 100 kb|chrPile:1-100000|$MAX_DEPTH|30x, 100 kb"
)
declare -A RSS_OF
ROWS=()
CMDS=()
MISSED=()
for c in "${CASES[@]}"; do
  IFS='|' read -r name region md base <<< "$c"
  tag=$(echo "$name-md$md" | tr -c 'A-Za-z0-9\n' '_')
  out=$CALLS/$tag.vcf.gz
  cmd=("$BIN" call --ref "$REF" --reads "$BAM" --region "$region" --output "$out"
       --threads "$THREADS" --max-depth "$md" --shard-size "$SHARD_SIZE" -q)
  CMDS+=("${cmd[*]}")
  walls=(); rsss=()
  for ((i = 1; i <= RUNS; i++)); do
    rm -f "$out" "$out.tbi"
    /usr/bin/time -f '%e %M' -o "$CALLS/time" "${cmd[@]}"
    read -r w kb < <(tail -1 "$CALLS/time")
    walls+=("$w"); rsss+=("$((kb / 1024))")
    echo "depth_memory: $name --max-depth $md run $i: ${w} s, $((kb / 1024)) MB" >&2
  done
  wall=$(median "${walls[@]}"); rss=$(median "${rsss[@]}")
  [ "$md" = "$MAX_DEPTH" ] && RSS_OF[$name]=$rss
  reads=$(samtools view -c "$BAM" "$region")
  maxdp=$(samtools depth -a -r "$region" "$BAM" | awk '$3 > m {m = $3} END {print m + 0}')
  read -r found planted gtok other < <(python3 benches/depth_recall.py "$DATA/truth.tsv" "$out" "$region" 2> "$CALLS/missed")
  while read -r line; do MISSED+=("- $name, --max-depth $md: $line"); done < "$CALLS/missed"
  ratio=$(awk -v a="$rss" -v b="${RSS_OF[$base]}" 'BEGIN{printf "%.2f", a / b}')
  recall=$(awk -v f="$found" -v p="$planted" 'BEGIN{printf "%d/%d (%.0f%%)", f, p, p ? 100 * f / p : 0}')
  ROWS+=("| $name | \`$region\` | $reads | $maxdp | $md | $SHARD_SIZE | $wall ($(IFS=,; echo "${walls[*]}" | sed 's/,/, /g')) | $rss ($(IFS=,; echo "${rsss[*]}" | sed 's/,/, /g')) | $ratio | $recall | $gtok | $other |")
done

ratio() { awk -v a="${RSS_OF[$1]}" -v b="${RSS_OF[$2]}" 'BEGIN{printf "%.2fx%s", a / b, a <= 2 * b ? " (within 2x)" : " (over 2x)"}'; }
mkdir -p "$(dirname "$RESULTS")"
{
  echo "# Peak memory at extreme depth"
  echo
  echo "\`benches/depth_memory.sh\` (\`make bench-depth\`, also run by \`make bench\`), $(date -u '+%F %H:%M UTC')."
  echo
  [ -z "${DEPTH_NOTE:-}" ] || { echo "$DEPTH_NOTE"; echo; }
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB; load average at start $LOAD (shared machine)"
  echo "- varstream: $COMMIT; binary \`$BIN\` (sha256 $BINSUM…, built $BINTIME)"
  echo "- data: \`${DATA#"$ROOT"/}\` from \`benches/depth_data.py\` (fixed seed), $GENERATED; 2 x 150 bp pairs, MAPQ 60"
  echo "- $RUNS runs per case, \`--threads $THREADS\`; wall and peak RSS (\`/usr/bin/time -f '%e %M'\`) are medians, the runs in brackets"
  echo "- reads in region: \`samtools view -c\`; max depth: \`samtools depth -a\`; planted found: planted variants in the region called with their ALT (GT right: with the planted 0/1 or 1/1); other calls: non-reference calls that were not planted"
  echo
  echo "| case | region | reads in region | max depth | --max-depth | --shard-size | wall (s) | peak RSS (MB) | RSS ÷ 30x same length | planted found | GT right | other calls |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Peak RSS (--max-depth $MAX_DEPTH) against the 30x regions; the goal is within 2x:"
  echo
  echo "- 5,000x chrM: $(ratio '5,000x chrM, 16.5 kb' '30x, 16.5 kb') the 30x 16.5 kb region"
  echo "- 30,000x pile-up: $(ratio '30,000x pile-up, 100 kb' '30x, 100 kb') the 30x 100 kb region, $(ratio '30,000x pile-up, 100 kb' '30x, 200 kb') the 30x 200 kb one"
  echo
  if [ -s "$BASELINE" ] && [ "$(realpath "$BASELINE")" != "$(realpath "$RESULTS")" ]; then
    echo "Against \`${BASELINE#"$ROOT"/}\` (peak RSS, median MB; wall, median s):"
    echo
    for row in "${ROWS[@]}"; do
      IFS='|' read -r _ name _ _ _ md _ wall rss _ <<< "$row"
      awk -F' [|] ' -v n="$(echo $name)" -v md="${md// /}" -v w="$(echo ${wall%% (*})" -v r="$(echo ${rss%% (*})" \
        '$1 == "| " n && $5 + 0 == md + 0 {split($8, a, " "); split($7, b, " ");
          printf "- %s, --max-depth %s: %s MB -> %s MB, %s s -> %s s\n", n, md, a[1], r, b[1], w}' "$BASELINE"
    done
    echo
  fi
  if [ ${#MISSED[@]} -gt 0 ]; then
    echo "Planted variants missed (not called, or called with another ALT) or called with the other genotype:"
    echo
    printf '%s\n' "${MISSED[@]}"
    echo
  fi
  echo "Whole run: $(( $(date +%s) - START )) s. Commands (each case; the VCFs of the last run are kept in \`${CALLS#"$ROOT"/}/\`):"
  echo
  echo '```'
  echo "python3 benches/depth_data.py --out DIR | samtools sort -@ $THREADS -m 512M -l 6 -o DIR/reads.bam -; samtools index DIR/reads.bam; samtools faidx DIR/ref.fa"
  printf '/usr/bin/time -f "%%e %%M" %s\n' "${CMDS[@]}" | sed "s#$ROOT/##g"
  echo '```'
} > "$RESULTS"
cat "$RESULTS"
