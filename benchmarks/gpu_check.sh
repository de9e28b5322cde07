#!/usr/bin/env bash
# GPU check (README, "Wan 2.x"): seconds per step and peak memory of each t2v pipeline on a lent GPU, <= 5 min.
#
#   bash benchmarks/gpu_check.sh prepare     # here, with pip's registry: the wheels the device image lacks -> .whl/
#   bash benchmarks/gpu_check.sh [ARGS]      # on the device (carry .whl): install them and t2v, run gpu_check.py
#
# The device image has torch, transformers, accelerate, peft and safetensors but no diffusers; t2v itself is
# installed from the working tree without its dependencies. ARGS go to benchmarks/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
WHEELS=(diffusers==0.42.1 ftfy==6.3.1 wcwidth importlib_metadata)

if [[ "${1:-}" == "prepare" ]]; then
    mkdir -p .whl
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform any -d .whl "${WHEELS[@]}"
    ls .whl
    exit 0
fi

[[ -d .whl ]] || { echo "no .whl folder: run 'bash benchmarks/gpu_check.sh prepare' first and carry .whl" >&2; exit 2; }
SITE="${T2V_GPU_SITE:-/tmp/t2v-site}"
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
"$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target "$SITE" .
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec timeout 300 "$PYTHON" benchmarks/gpu_check.py "$@"
