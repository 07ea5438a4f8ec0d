#!/usr/bin/env bash
# Tiny simulated data set for `make demo`: 40 kb of GRCh38 chr20 (6,660,000-6,700,000;
# 7.00-7.04 Mb was avoided: it is a run of homozygosity, 64 of its 66 variants are 1/1),
# 30x, aligned against an index of only 200 kb around it so the whole run takes well under
# a minute. Its reference and truth are the slice committed in data/demo/ (see its README.md),
# so it needs no ../shared. Same layout and manifest as scripts/simulate_training.sh (it is that script's
# --tiny mode; see its header for the environment variables).
# Usage: scripts/simulate_tiny.sh OUTDIR
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/simulate_training.sh" --tiny "$@"
