#!/usr/bin/env bash
# Everything that needs a CUDA GPU, in one go: the CUDA tests, the float32/TF32 precision table, the
# force-evaluation benchmark (eager and from CUDA graphs; one configuration, batches of 16 and 256) and
# the dynamics benchmark, each writing its log and JSON to OUTDIR. Run from the checkout with latsym and latsym-holstein importable:
#
#     bash benchmarks/gpu_checks.sh OUTDIR
set -uo pipefail
out=${1:?usage: bash benchmarks/gpu_checks.sh OUTDIR}
mkdir -p "$out"
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
status=0
step() {  # step NAME COMMAND...: run, keep its output in OUTDIR/NAME.log, remember a failure
    local name=$1; shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$out/$name.log" || status=1
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numpy', numpy.__version__)"
step cuda_tests python -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/dynamics/test_integrators.py
step precision python benchmarks/precision_cuda.py --json "$out/precision.json"
nets=(--networks latsym paper gnn --device cuda --eigh-device cuda)
step forces python benchmarks/bench_forces.py "${nets[@]}" --json "$out/forces.json"
step forces_graph python benchmarks/bench_forces.py "${nets[@]}" --cuda-graph --json "$out/forces_graph.json"
# (not 256 x 256 in batches of 16: capturing the GNN baseline there needs more than the H100's 80 GB)
step forces_b16 python benchmarks/bench_forces.py "${nets[@]}" --cuda-graph --batch 16 \
    --sizes 24 32 40 64 128 --json "$out/forces_b16.json"
step forces_b256 python benchmarks/bench_forces.py "${nets[@]}" --cuda-graph --batch 256 --sizes 40 \
    --json "$out/forces_b256.json"
step dynamics python benchmarks/bench_dynamics.py --steps 500 --json "$out/dynamics.json"
exit $status
