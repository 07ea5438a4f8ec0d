#!/usr/bin/env bash
# GPU set-up for `varstream call --device cuda`, on a Linux x86-64 machine whose NVIDIA driver
# runs CUDA 13 (R580 or newer; the driver itself, libcuda.so.1, is not a pip package):
#   - a venv .venv-gpu with the onnxruntime-gpu wheel and the CUDA 13 and cuDNN 9 wheels its
#     CUDA provider loads (cudart, cuBLAS/cuBLASLt, cuRAND, cuDNN; about 2 GB of downloads).
#     A separate venv, because onnxruntime and onnxruntime-gpu both install `onnxruntime`;
#   - varstream built with `--features cuda` (the binary also runs `--device cpu`);
#   - .venv-gpu/env.sh, which sets ORT_DYLIB_PATH and LD_LIBRARY_PATH for varstream: Python
#     finds these libraries for itself, a Rust binary needs them on the loader's path.
# Usage: scripts/setup_gpu.sh        (idempotent)
#        source .venv-gpu/env.sh && target/release/varstream call ... --device cuda
# What was run where: benches/results/gpu.md measured the same ONNX Runtime build on an H200
# with the device's own copies of these CUDA 13 wheels. This script was run on a machine with
# no NVIDIA driver, where every library resolves but libcuda.so.1 and `--device cuda` exits 1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ORT_VERSION=1.31.1
VENV=.venv-gpu

command -v cargo >/dev/null || { echo "setup_gpu: cargo not found: run scripts/setup.sh first" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null; then
  echo "setup_gpu: installing onnxruntime-gpu $ORT_VERSION with its CUDA 13 and cuDNN 9 wheels into $VENV (about 2 GB) ..." >&2
  # The wheel's `cuda` extra brings cudart, cuRAND, cuFFT and NVRTC; cuBLAS is named here
  # because the provider links it (readelf -d) and the extra does not list it.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-compile \
    "onnxruntime-gpu[cuda,cudnn]==$ORT_VERSION" "nvidia-cublas~=13.0"
fi
SITE=$("$VENV/bin/python" -c 'import onnxruntime, os; print(os.path.dirname(os.path.dirname(onnxruntime.__file__)))')
ORT_LIB=$SITE/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION
[ -s "$ORT_LIB" ] || { echo "setup_gpu: $ORT_LIB missing after the install" >&2; exit 1; }
LIB_DIRS=$(find "$SITE/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)
missing=()
for so in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9; do
  (IFS=:; for d in $LIB_DIRS; do [ -e "$d/$so" ] && exit 0; done; exit 1) || missing+=("$so")
done
[ ${#missing[@]} -eq 0 ] || { echo "setup_gpu: not installed: ${missing[*]}" >&2; exit 1; }
cat > "$VENV/env.sh" <<EOF
# Written by scripts/setup_gpu.sh: the ONNX Runtime and CUDA libraries for varstream --device cuda.
export ORT_DYLIB_PATH=$ORT_LIB
export LD_LIBRARY_PATH=$LIB_DIRS\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
EOF
echo "setup_gpu: building varstream with --features cuda ..." >&2
cargo build --release --features cuda
if [ -e /proc/driver/nvidia/version ] || ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
  echo "setup_gpu: ok. Run: source $VENV/env.sh && target/release/varstream call ... --device cuda" >&2
else
  echo "setup_gpu: installed, but this machine has no NVIDIA driver (libcuda.so.1): --device cuda will exit 1 here" >&2
fi
