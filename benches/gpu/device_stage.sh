#!/usr/bin/env bash
# First of the two device calls (see benches/gpu/README.md): unpack the pruned CUDA provider
# and the GRCh38 reference carried in .gpu/a into /tmp/ort, where the second call finds them.
# The provider alone (49 MiB compressed) fills most of one call's 64 MiB.
set -euo pipefail
mkdir -p /tmp/ort
python3 - <<'PY'
import lzma, shutil
with lzma.open(".gpu/a/pruned_cuda.so.xz") as src, open("/tmp/ort/libonnxruntime_providers_cuda.so", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 24)
PY
cp .gpu/a/grch38.chr20_and_21_10M.fa.gz* /tmp/ort/
ls -la /tmp/ort
nvidia-smi -L
