#!/usr/bin/env bash
# Second device call: `varstream call` with --device cpu and --device cuda on the same reads,
# on the device machine (16 cores, one H200), and the checks that the CUDA path is real:
# the process shows up on the GPU, the VCF matches the CPU one, and CUDA that cannot start
# exits 1 with no VCF. Results go to $OUT/gpu_results.tar.gz (see benches/gpu/README.md).
set -euo pipefail
R=${OUT:?}/gpu
mkdir -p "$R" /tmp/ort
# Whatever happens, bring back what was measured.
trap 'tar -czf "$OUT/gpu_results.tar.gz" -C "$OUT" gpu && rm -rf "$R"' EXIT
test -s /tmp/ort/libonnxruntime_providers_cuda.so || { echo "no staged provider: run device_stage.sh first on this machine"; exit 1; }
# python's lzma and tarfile: the device image may lack xz.
python3 -c 'import lzma, tarfile, shutil
tarfile.open(".gpu/b/ortcore.tar.xz").extractall("/tmp/ort")
shutil.copyfileobj(lzma.open(".gpu/b/varstream.xz"), open("/tmp/ort/varstream", "wb"))'
chmod +x /tmp/ort/varstream
B=/tmp/ort/varstream
# The CUDA 13 libraries the provider links come with PyTorch's nvidia-* wheels there.
NV=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')/nvidia
LIBS=$(find "$NV" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)
export LD_LIBRARY_PATH=/tmp/ort:$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export ORT_DYLIB_PATH=/tmp/ort/libonnxruntime.so.1.31.1
{ nvidia-smi -L; nproc; uname -r; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; } > "$R/machine.txt" 2>&1
for so in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9; do
  echo "$so: $(find "$NV" -name "$so" | head -1)" >> "$R/machine.txt"
done
# timed NAME CMD...: wall, user+sys CPU and peak RSS of the child, one TSV row.
timed() {
  local name=$1; shift
  python3 - "$name" "$@" >> "$R/runs.tsv" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open("/tmp/ort/last.err", "w")).returncode
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{sys.argv[1]}\t{rc}\t{wall:.3f}\t{ru.ru_utime + ru.ru_stime:.2f}\t{ru.ru_maxrss // 1024}")
PY
  cat /tmp/ort/last.err >> "$R/stderr.log"
}
printf 'run\trc\twall_s\tcpu_s\tpeak_rss_mb\n' > "$R/runs.tsv"
DEV=(--ref .gpu/b/ucsc.hg19.chr20.unittest.fasta.gz --reads .gpu/b/NA12878_S1.chr20.10_10p1mb.bam --region chr20:10000000-10100000)
SLICE=(--ref /tmp/ort/grch38.chr20_and_21_10M.fa.gz --reads .gpu/b/slice2mb.bam --region chr20:4000001-6000000)
# GPU use, sampled every 100 ms through all runs.
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -lms 100 > "$R/gpu_samples.csv" 2>&1 &
SMI=$!
for dev in cpu cuda; do
  for i in 1 2 3; do
    timed "dev_${dev}_t16_$i" $B call "${DEV[@]}" --threads 16 --device $dev -o /tmp/ort/dev_$dev.vcf.gz
  done
  for i in 1 2 3; do
    timed "slice2mb_${dev}_t16_$i" $B call "${SLICE[@]}" --threads 16 --device $dev -o /tmp/ort/slice_${dev}_run$i.vcf.gz
  done
  timed "slice2mb_${dev}_t2_1" $B call "${SLICE[@]}" --threads 2 --device $dev -o /tmp/ort/slice_${dev}_t2.vcf.gz
done
for i in 1 2 3; do
  timed "slice2mb_cuda_t16_bs4096_$i" $B call "${SLICE[@]}" --threads 16 --device cuda --batch-size 4096 -o /tmp/ort/slice_cuda_bs4096.vcf.gz
done
# Low depth (the slice downsampled to 20%, ~6x), where v4's two networks share the batches,
# and the other graphs: the GRU alone and the GRU/v4 tiers (Compress/ScatterND routing).
LOW=(--ref /tmp/ort/grch38.chr20_and_21_10M.fa.gz --reads .gpu/b/slice2mb_6x.bam --region chr20:4000001-6000000)
for dev in cpu cuda; do
  timed "slice6x_${dev}_t16_1" $B call "${LOW[@]}" --threads 16 --device $dev -o /tmp/ort/low_$dev.vcf.gz
  timed "slice2mb_gru_${dev}_t16_1" $B call "${SLICE[@]}" --threads 16 --device $dev --model models/varstream-gru-v1.onnx -o /tmp/ort/gru_$dev.vcf.gz
  timed "slice2mb_tiers_${dev}_t16_1" $B call "${SLICE[@]}" --threads 16 --device $dev --model .gpu/b/varstream-tiers.onnx -o /tmp/ort/tiers_$dev.vcf.gz
done
# The process on the GPU, seen by the driver while a CUDA run is going.
( $B call "${SLICE[@]}" --threads 16 --device cuda -o /tmp/ort/slice_seen.vcf.gz -v 2> "$R/cuda_verbose.log" ) &
CALL=$!
for _ in $(seq 40); do nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader >> "$R/compute_apps.txt" 2>&1; sleep 0.1; done
wait $CALL || echo "verbose cuda run: exit $?" >> "$R/cuda_verbose.log"
kill $SMI || true
# CUDA that cannot start must fail (exit 1, no VCF), never fall back to the CPU.
set +e
CUDA_VISIBLE_DEVICES= $B call "${DEV[@]}" --device cuda -o /tmp/ort/nogpu.vcf.gz 2> "$R/nogpu.log"
echo "exit $? ; files left: $(ls /tmp/ort/nogpu* 2>/dev/null | wc -l)" >> "$R/nogpu.log"
set -e
cp /tmp/ort/*.vcf.gz "$R/" || true
cat "$R/runs.tsv"
