#!/usr/bin/env bash
# The one GPU check (bench/gpu_check.py): per loss (all 13) bf16 and fp16 steps, a validation batch,
# save and resume; step time and max_memory_reserved per GPU profile with the pipeline's own flags;
# the loader at real size against the step rate; one 512 x 512 x 100 evaluation prediction. Under
# 8 minutes on one H100 (the stage estimates are in gpu_check.py's docstring); the JSON is written
# after every stage, so a run cut short keeps what it measured.
#
#   bash bench/gpu_all.sh              # on the GPU machine, from anywhere
#   OUT=/some/folder bash bench/gpu_all.sh
#   bash bench/gpu_all.sh --quick      # the CPU rehearsal the tests run (test profile, tiny volumes)
#
# The Python is the project's own: $PYTHON, else .venv/bin/python, and it must import this
# checkout's minivess_kedro (not another copy, not whatever `python` is on PATH). Without CUDA it
# refuses at once (but for --quick). Exit status: the number of failed stages; 2 for a refusal.
set -u
cd "$(dirname "$0")/.."
out="${OUT:-bench-results}"
py="${PYTHON:-.venv/bin/python}"
if ! command -v "$py" >/dev/null 2>&1; then
  echo "gpu_all: no project Python at '$py': install the project (python3 -m venv .venv && .venv/bin/pip install -e .) or set PYTHON" >&2
  exit 2
fi
where=$("$py" -c "import minivess_kedro, pathlib; print(pathlib.Path(minivess_kedro.__file__).resolve().parent)" 2>/dev/null)
if [ "$where" != "$(pwd -P)/src/minivess_kedro" ]; then
  echo "gpu_all: $py does not import this checkout's minivess_kedro (it imports '${where:-nothing}'); install it with pip install -e ." >&2
  exit 2
fi
if [ "${1:-}" != "--quick" ]; then
  if ! "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_all: CUDA is not available to $py (torch $("$py" -c 'import torch; print(torch.__version__)')): nothing to measure; --quick rehearses on the CPU" >&2
    exit 2
  fi
fi
mkdir -p "$out"
"$py" bench/gpu_check.py --out "$out/gpu_check.json" "$@"
