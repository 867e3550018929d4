#!/usr/bin/env bash
# convkata on a real GPU, in one go, in at most 8 minutes: run from the project root on a fresh CUDA
# machine, e.g. `OUT=/some/dir bash scripts/gpu_check.sh`. Every step has its own timeout inside a
# global budget (BUDGET seconds, default 470); a failing step never stops the ones after it.
#
# Steps: the machine; install; `grader doctor`; the facts the CUDA paths rely on
# (scripts/gpu_check_probes.py: fork + CUDA, RLIMIT_AS / RLIMIT_DATA, Triton's child processes under
# the guard, sticky CUDA errors); the reference solutions and the stubs of p05, p06, p07 and p15
# with --device cuda; the benchmark table (scripts/gpu_bench.py: CUDA events, L2 flushed); the
# GPU-relevant tests. $OUT gets check.log, sol.json, stub.json, bench.json and summary.txt.
# After a run: copy the figures with the card's name into docs/benchmarks.md (GPU section) and
# set the thresholds marked "uncalibrated" below what the references reach.
set -u
OUT=${OUT:-$PWD/gpu-check-out}; mkdir -p "$OUT"; : >"$OUT/summary.txt"
exec > >(tee -a "$OUT/check.log") 2>&1
[ -f pyproject.toml ] && grep -q '^name = "convkata"' pyproject.toml || { echo "run me from the convkata root"; exit 2; }
PY=${PYTHON:-python3}; BUDGET=${BUDGET:-470}; TMP=$(mktemp -d)
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} OUT
export CONVKATA_STATE_DIR=$TMP/state   # grader progress files stay out of the way
unset TRITON_INTERPRET                  # the grader sets it per device itself; start clean

step() {  # step NAME SECONDS CMD...: run under a timeout (capped by what is left of BUDGET), log rc
  local name=$1 secs=$2 left=$((BUDGET - SECONDS)) t0=$SECONDS rc; shift 2
  if [ "$left" -lt 20 ]; then echo "=== [$name] SKIPPED: budget spent" | tee -a "$OUT/summary.txt"; return 99; fi
  [ "$secs" -gt "$left" ] && secs=$left
  echo; echo "=== [$name] $(date +%T), limit ${secs}s: $*"
  timeout -k 10 "$secs" "$@"; rc=$?
  [ $rc -eq 124 ] && echo "=== [$name] TIMED OUT"
  echo "=== [$name] rc=$rc after $((SECONDS - t0))s" | tee -a "$OUT/summary.txt"
  return $rc
}

# ---------------------------------------------------------------- 0. what machine is this
step env 40 bash -c '
  nvidia-smi
  nvidia-smi --query-gpu=name,driver_version,compute_mode,mig.mode.current,persistence_mode,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu --format=csv
  env | grep -E "^(TRITON|CUDA|PYTORCH|NVIDIA|CONVKATA)_" || true
  echo "cc: $(command -v gcc cc clang | head -1)   ldconfig: $(command -v ldconfig)   triton cache files: $(find ~/.triton/cache -type f 2>/dev/null | wc -l)"
  '"$PY"' -c "import sys, torch; print(sys.version.split()[0], \"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"cudnn\", torch.backends.cudnn.version()); import triton; print(\"triton\", triton.__version__)"'

# ---------------------------------------------------------------- 1. install (offline first: the machine may have no network)
step install 90 "$PY" -m pip install -q --no-index --no-build-isolation -e '.[dev,gpu]' ||
  step install-online 90 "$PY" -m pip install -q --retries 0 --timeout 10 -e '.[dev,gpu]' ||
  step install-nodeps 60 "$PY" -m pip install -q --no-index --no-build-isolation --no-deps -e . ||
  echo "install failed: carrying on with PYTHONPATH=$PWD and python -m grader"

# ---------------------------------------------------------------- 2. doctor
step doctor 60 "$PY" -m grader doctor

# ---------------------------------------------------------------- 3. the facts the CUDA paths rely on
step probes 120 "$PY" scripts/gpu_check_probes.py

# ---------------------------------------------------------------- 4. the grader on the reference solutions
step solutions 200 "$PY" -m grader run --solutions --device cuda p05 p06 p07 p15 --seed 1234 --json "$OUT/sol.json" -v

# ---------------------------------------------------------------- 5. benchmark table (CUDA events, flushed L2)
step bench 120 "$PY" scripts/gpu_bench.py

# ---------------------------------------------------------------- 6. the grader on the stubs (GPU checks of unstarted code)
step stubs 60 "$PY" -m grader run --workspace problems --device cuda p05 p06 p07 p15 --seed 1234 --json "$OUT/stub.json" -v

# ---------------------------------------------------------------- 7. GPU-relevant tests (pytest grades on --device cpu, on a GPU host)
step pytest 90 "$PY" -m pytest -q -p no:cacheprovider tests/test_p15_gpu_depthwise.py tests/test_speed.py \
  -k "not reference_p07 and not patching and not untimed and not replayed and not per_pixel"

# ---------------------------------------------------------------- summary (last, so it is in the output's tail)
"$PY" - <<'PYEOF' | tee -a "$OUT/summary.txt"
import json, os
out = os.environ["OUT"]
for name in ("sol", "stub"):
    try:
        run = json.load(open(f"{out}/{name}.json"))
    except Exception as exc:
        print(f"{name}.json: unreadable ({exc})"); continue
    print(f"\n## {name}: score {run.get('score')}/{run.get('max_score')} on {run.get('device')}, torch {run.get('torch')}")
    for p in run["problems"]:
        print(f"{p['id']} {p['status']} {p.get('message', '')[:200]}")
        for c in p["checks"]:
            unstarted = name == "stub" and c["kind"] != "speed" and c["message"].startswith("not implemented")
            if (c["status"] != "passed" or c["kind"] == "speed") and not unstarted:
                figure = f" [{c.get('measured')} {c.get('unit')}, {c.get('direction')} is better, threshold {c.get('threshold')}]" if c.get("measured") is not None else ""
                print(f"  {c['status']:8s} {c['name']}{figure}: {c['message'][:450]}")
try:
    print("\n## bench\n" + "\n".join(json.load(open(f"{out}/bench.json"))["lines"]))
except Exception as exc:
    print(f"bench.json: unreadable ({exc})")
PYEOF
echo; echo "=== steps"; grep '^===' "$OUT/summary.txt" || true
nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,memory.used --format=csv,noheader || true
sleep 1  # let tee finish writing check.log
