#!/usr/bin/env bash
# The GPU readiness suite: proves the CUDA paths and measures the GPU figures in under 8 minutes.
#
#   bash benchmarks/gpu_suite.sh OUT              # on a machine with CUDA, from the repository root
#   bash benchmarks/gpu_suite.sh --dry-run OUT    # every step for a few iterations on the CPU
#   bash benchmarks/gpu_suite.sh --budget 300 OUT # a tighter overall budget, in seconds (default 450)
#   bash benchmarks/gpu_suite.sh --only nccl_train,eval_speed OUT   # rerun some steps (comma-separated)
#
# Writes OUT/summary.json (every step's status and wall time, the goals, and each step's JSON embedded),
# OUT/<step>.json (each step's own JSON) and OUT/logs/<step>.log. Each step runs in its own process under
# `timeout`, so one failure or hang does not stop the others; a step that would start with less than its
# minimum time left is skipped (status "skipped"). Exit status: 0 when every step that ran passed, 1
# otherwise (the summary says which). Python: $PYTHON, else .venv/bin/python, else python3; the
# repository's src/ goes first on PYTHONPATH, so an uninstalled checkout works. See benchmarks/README.md.
set -u -o pipefail

DRY=0
BUDGET=""
ONLY=""
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --budget) BUDGET="$2"; shift ;;
    --only) ONLY=",$2,"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "gpu_suite.sh: unknown option $1 (valid: --dry-run, --budget S, --only STEPS, OUT)" >&2; exit 2 ;;
    *) OUT="$1" ;;
  esac
  shift
done
if [ -z "$OUT" ]; then
  echo "usage: bash benchmarks/gpu_suite.sh [--dry-run] [--budget S] [--only STEP,...] OUT" >&2
  exit 2
fi
if [ ! -f benchmarks/gpu_suite.sh ] || [ ! -d src/secgan ]; then
  echo "gpu_suite.sh: run it from the repository root (benchmarks/ and src/secgan/ not found here)" >&2
  exit 2
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
mkdir -p "$OUT/logs" "$OUT/work"
OUT="$(cd "$OUT" && pwd)"
STEPS="$OUT/steps.tsv"
: >"$STEPS"
START=$(date +%s)

if [ "$DRY" = 0 ] && ! "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_suite.sh: CUDA is not available to $PY; use --dry-run for the CPU check" >&2
  exit 2
fi
# The dry run checks the code paths, not the time: on a small shared CPU it gets 4x the caps and 30 minutes.
if [ "$DRY" = 1 ]; then
  SLACK=4
  BUDGET="${BUDGET:-1800}"
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
else
  SLACK=1
  BUDGET="${BUDGET:-450}"
fi

# step NAME CAP_S MIN_S REQUIRED CMD...: run CMD with stdout to OUT/NAME.json (OUT/logs/NAME.out when
# STEP_TEXT=1) and stderr to OUT/logs/NAME.log,
# under a timeout of min(CAP_S, what is left of the budget); skipped when less than MIN_S is left.
step() {
  local name="$1" cap="$2" min="$3" required="$4"
  shift 4
  if [ -n "$ONLY" ] && [[ "$ONLY" != *",$name,"* ]]; then return 0; fi
  local left=$((BUDGET - ($(date +%s) - START)))
  local limit=$((cap * SLACK))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt "$min" ]; then
    printf '%s\tskipped\t\t0\t%s\t%s\n' "$name" "$limit" "$required" >>"$STEPS"
    echo "[gpu_suite] $name: skipped (${left}s of the budget left, needs ${min}s)" >&2
    return 0
  fi
  echo "[gpu_suite] $name: up to ${limit}s: $*" >&2
  local t0 rc status
  t0=$(date +%s.%N)
  local stdout="$OUT/$name.json"
  [ "${STEP_TEXT:-0}" = 1 ] && stdout="$OUT/logs/$name.out"  # a step that prints text, not JSON
  timeout --kill-after=10 "$limit" "$@" >"$stdout" 2>"$OUT/logs/$name.log"
  rc=$?
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" = 0 ]; then status=ok; elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timeout; else status=failed; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$secs" "$limit" "$required" >>"$STEPS"
  echo "[gpu_suite] $name: $status (rc $rc, ${secs}s)" >&2
}

# train_speed over the three paper presets (baseline and SeCGAN) under one precision variant.
PRESETS=celeba-stargan-128,celeba-attgan-128,celebahq-stargan-256
train_speed() {
  local name="$1" cap="$2"
  shift 2
  if [ "$DRY" = 1 ]; then
    step "$name" "$cap" 5 required "$PY" benchmarks/train_speed.py --device cpu --presets "$PRESETS" \
      --tiny --no-isolate --iters 5 --warmup 1 "$@"
  else
    step "$name" "$cap" 20 required "$PY" benchmarks/train_speed.py --device cuda --presets "$PRESETS" \
      --no-isolate --iters 200 --max-seconds 3 --warmup 2 "$@"
  fi
}

# 1. environment
step env 30 5 required "$PY" benchmarks/gpu_env.py

# 2. the GPU-marked tests (figures they measure go to OUT/gpu_tests/); torch.compile's test is a step of its
# own (inductor's compilation is the slow part), and a test that hangs fails after --timeout seconds.
# Dry run: collected and skipped.
export SECGAN_GPU_RECORD="$OUT/gpu_tests"
if [ "$DRY" = 1 ]; then TESTS=(tests/gpu); else TESTS=(tests); fi
PYTEST=("$PY" -m pytest -m gpu -q -p no:cacheprovider --durations=0 -o junit_family=xunit2
  --continue-on-collection-errors)
STEP_TEXT=1 step pytest_gpu 150 30 required "${PYTEST[@]}" --timeout 100 -k "not compile" \
  --junitxml="$OUT/pytest_gpu.xml" "${TESTS[@]}"

# 3. training speed: fp32, bf16, bf16 + channels_last
train_speed train_fp32 75 --precision fp32
[ "$DRY" = 1 ] && PRESETS=celeba-stargan-128  # the dry run has proved the preset list by now
train_speed train_bf16 75 --precision bf16
train_speed train_bf16_cl 75 --precision bf16 --channels-last
PRESETS=celeba-stargan-128,celeba-attgan-128,celebahq-stargan-256

# 4. one-process torchrun (NCCL on CUDA): checkpoint, resume, export, edit
if [ "$DRY" = 1 ]; then
  step nccl_train 60 5 required "$PY" benchmarks/nccl_train.py --out "$OUT/work/nccl" --device cpu --tiny \
    --precision fp32 --iters 5 --more 0 --images 16
else
  step nccl_train 75 20 required "$PY" benchmarks/nccl_train.py --out "$OUT/work/nccl" --device cuda \
    --precision bf16 --iters 20 --more 10 --images 64
fi

# 5. evaluation throughput and editing latency
if [ "$DRY" = 1 ]; then
  step eval_speed 60 5 required "$PY" benchmarks/memory.py benchmarks/eval_speed.py --images 8 --size 32 --batch 8 --workers 0 \
    --device cpu
  step edit_latency 30 5 required "$PY" benchmarks/memory.py benchmarks/edit_latency.py --device cpu --repeats 2 --warmup 1 \
    --no-photo
else
  step eval_speed 75 20 required "$PY" benchmarks/memory.py benchmarks/eval_speed.py --images 256 --size 128 --conv-dim 64 \
    --n-res 6 --batch 64 --workers 8 --random-extractors --device cuda --precision fp32
  step edit_latency 45 15 required "$PY" benchmarks/memory.py benchmarks/edit_latency.py --device cuda --repeats 50 --warmup 5
fi

# 6. torch.compile (inductor): the GPU test, then (optional, with what is left) the demo recipe's training
# cost and the compiled training speed
STEP_TEXT=1 step pytest_gpu_compile 150 40 required "${PYTEST[@]}" --timeout 140 -k compile \
  --junitxml="$OUT/pytest_gpu_compile.xml" "${TESTS[@]}"
if [ "$DRY" = 1 ]; then
  step demo_sizing 30 5 optional "$PY" benchmarks/train_speed.py --device cpu --preset 'synthetic-{backbone}-64' \
    --backbones attgan,stargan --methods baseline,concat,secgan --tiny --no-isolate --iters 5 --warmup 1
  step demo_sizing_g32 30 5 optional "$PY" benchmarks/train_speed.py --device cpu --preset 'synthetic-{backbone}-64' \
    --backbones stargan --methods baseline,secgan --tiny --no-isolate --iters 5 --warmup 1 --set model.g_conv_dim=32
  step train_compile 60 5 optional "$PY" benchmarks/train_speed.py --device cpu --presets celeba-stargan-128 \
    --tiny --no-isolate --iters 5 --warmup 1 --precision bf16 --channels-last --compile \
    --compile-backend eager --methods baseline
else
  step demo_sizing 45 20 optional "$PY" benchmarks/train_speed.py --device cuda --preset 'synthetic-{backbone}-64' \
    --backbones attgan,stargan --methods baseline,concat,secgan --parser-width 8 --parser-size 256 --no-isolate \
    --iters 200 --max-seconds 3 --warmup 2
  # the twice-as-wide generator that reaches 25 dB on the CPU curves (docs/synthetic-benchmark.md)
  step demo_sizing_g32 40 15 optional "$PY" benchmarks/train_speed.py --device cuda --preset 'synthetic-{backbone}-64' \
    --backbones stargan --methods baseline,secgan --parser-width 8 --parser-size 256 --no-isolate \
    --iters 200 --max-seconds 3 --warmup 2 --set model.g_conv_dim=32
  step train_compile 150 60 optional "$PY" benchmarks/train_speed.py --device cuda \
    --presets celeba-stargan-128 --no-isolate --iters 200 --max-seconds 4 --warmup 3 --precision bf16 \
    --channels-last --compile
fi

# 7. what compute buys (optional): the synthetic preset with paper-size networks (g64, 6 residual blocks,
# critic width 64), Baseline and SeCGAN, 3,000 iterations each: samples, reconstruction PSNR and editing
# accuracy every 1,000 iterations. A first suite run rarely has the time left for it: run it on its own,
# `--only paper_size_synth --budget 480`.
if [ "$DRY" = 1 ]; then
  step paper_size_synth 120 5 optional "$PY" benchmarks/paper_size_synth.py --out "$OUT/work/paper_size" \
    --dry-run --device cpu
else
  step paper_size_synth 480 240 optional "$PY" benchmarks/paper_size_synth.py --out "$OUT/work/paper_size" \
    --device cuda
fi

# summary.json (always written; checks that every step that ran wrote its JSON)
"$PY" benchmarks/gpu_suite_report.py "$OUT" --budget "$BUDGET" --started "$START" $([ "$DRY" = 1 ] && echo --dry-run)
