#!/usr/bin/env bash
# Every GPU number of the docs in one go, for the first few minutes a GPU machine is available:
# bench/gpu_smoke.py on each GPU profile (training steps AMP vs float32, one whole-volume
# prediction at MiniVess size) and bench/real_size.py on cloud_single (every stage of one run).
#
#   bash bench/gpu_all.sh                 # from the project root, on the GPU machine
#   OUT=/some/folder bash bench/gpu_all.sh
#   bash bench/gpu_all.sh --quick         # a few-second rehearsal (test profile, tiny volumes; CPU is fine)
#
# Writes <profile>.smoke.json, real_size.cloud_single.json and a log per step under $OUT (default
# bench-results/); a failing step is logged and the next one still runs; the exit status is the
# number of failed steps.
set -u
out="${OUT:-bench-results}"
mkdir -p "$out"
python_bin="${PYTHON:-python}"
failed=0

step() {  # step NAME COMMAND...: run, log, count a failure without stopping
  local name="$1"
  shift
  echo "== $name: $*"
  if "$@" >"$out/$name.log" 2>&1; then
    tail -n 12 "$out/$name.log"
  else
    echo "!! $name failed (exit $?), see $out/$name.log"
    tail -n 20 "$out/$name.log"
    failed=$((failed + 1))
  fi
}

if [ "${1:-}" = "--quick" ]; then
  profiles=(test)
  smoke_args=(--steps 2 --repeats 1 --volume 40 36 12)
  real_env=test
  real_args=(--volumes 3 --patches 8 --size 32 32 --depth 10 12)
else
  profiles=(gpu_low gpu_high cloud_single)
  smoke_args=(--steps 20 --repeats 2 --volume 512 512 100)
  real_env=cloud_single
  real_args=(--volumes 5 --patches 96 --size 512 512 --depth 96 112)  # ~30 s per synthetic volume
fi

"$python_bin" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), \
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU')" | tee "$out/device.txt"
for profile in "${profiles[@]}"; do
  step "$profile.smoke" "$python_bin" bench/gpu_smoke.py --env "$profile" "${smoke_args[@]}" --out "$out/$profile.smoke.json"
done
step "real_size.$real_env" "$python_bin" bench/real_size.py --env "$real_env" "${real_args[@]}" \
  --out "$out/real_size.$real_env.json"
echo "== $failed failed step(s); results in $out"
exit "$failed"
