#!/usr/bin/env bash
# Every GPU check of slbench in one command, for a CUDA machine that has PyTorch but cannot fetch
# packages (the device tool's machines). It installs the two pure-Python dependencies those
# machines lack from the wheels `make device-wheels` puts in .whl (carry .whl along), then runs
#   1. tests/benchmarks/gpu_bench.py: generation and Inception extraction at 256 px, the metric
#      suite on GPU and CPU, each model trained at 256 px with bf16 and with fp16 and its loss
#      scale (s/kimg, peak memory), and `run --models all --category all` with MEL on the
#      checkpoints it trained;
#   2. the CUDA tests: CPU/GPU agreement of the three generators and the metric suite, AMP steps.
# Arguments go to gpu_bench.py (default here: --train-kimg 2); `--tiny --device cpu` rehearses
# the whole script on a CPU in about a minute. Everything lands in $OUT (default ./device-out):
# gpu-bench.json (rewritten after every step), the logs, and nvidia-smi's view of the machine.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-device-out}
site=$(mktemp -d)
mkdir -p "$out"
if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "no wheels in .whl: run \`make device-wheels\` here and carry .whl to the GPU machine" >&2
    exit 2
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl || exit 2
export PYTHONPATH="$site:$PWD"
{ nvidia-smi || echo "no nvidia-smi"; } > "$out/nvidia-smi.txt" 2>&1
timeout "${BENCH_SECONDS:-420}" python3 tests/benchmarks/gpu_bench.py --train-kimg 2 "$@" --out "$out/gpu-bench.json" \
    > "$out/gpu-bench.log" 2>&1
bench=$?
timeout "${TESTS_SECONDS:-120}" python3 -m pytest -q -p no:cacheprovider tests/test_generators_cuda.py \
    tests/test_metrics_cuda.py > "$out/cuda-tests.log" 2>&1
tests=$?
echo "gpu_bench exit $bench (log: $out/gpu-bench.log), CUDA tests exit $tests:"
tail -n 3 "$out/cuda-tests.log"
[ "$bench" -eq 0 ] && [ "$tests" -eq 0 ]
