"""Distributions of the training verdicts: grade files under many seeds, quiet or beside CPU hogs.

    python3 scripts/bench_training.py p08 solutions/p08_mnist_cnn.py tests/submissions/p08/correct_plain_cnn.py \
        --seeds 20 --load 2 --out /tmp/p08-load.jsonl
    python3 scripts/bench_training.py --summary /tmp/p08-quiet.jsonl /tmp/p08-load.jsonl

One fork server grades every (seed, file) pair through ``grader.grading.grade_problem``, the same
path as ``grader run``. ``--load N`` starts N CPU-bound processes (``python3 -c 'while True: pass'``)
for the whole run and kills them (by pid) at the end. Each graded pair appends one JSON line
(status, each check's status and measured value, the CPU-time details, the load average) to
``--out``, flushed at once, so a run can be watched and survives being cut short. ``--summary``
prints n, min, 5th percentile, median and max per file, condition and check as a Markdown table.
Seeds are 1..N unless ``--first-seed`` says otherwise. Run it in the background on a shared
machine: it takes about (budget + 3 s) of CPU time per pair.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load_average() -> float:
    return os.getloadavg()[0]


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default method)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def grade(args) -> None:
    from grader import grading, registry
    from grader.runner import limits
    from grader.runner.session import ForkServer

    spec = registry.find(args.problem)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    condition = args.condition or ("quiet" if not args.load else f"{args.load} CPU hogs")
    limits.adopt_orphans()
    server = ForkServer()
    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    try:
        with open(args.out, "a") as out:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for path in args.files:
                    workspace = work / f"{seed}-{Path(path).stem}"
                    workspace.mkdir()
                    shutil.copy(path, workspace / spec.filename)
                    options = grading.Options(seed=seed, speed=False, time_scale=args.time_scale)
                    load_before = _load_average()
                    start = time.monotonic()
                    result = grading.grade_problem(spec, workspace, options, server)
                    record = {
                        "problem": spec.id, "file": str(path), "seed": seed, "condition": condition,
                        "time_scale": args.time_scale, "status": result.status,
                        "wall_s": round(time.monotonic() - start, 2),
                        "load": round((load_before + _load_average()) / 2, 2),
                        "checks": {c.name: {"status": c.status, "measured": c.measured, "threshold": c.threshold,
                                            "message": c.message[:300]} for c in result.checks},
                        "details": next((c.details for c in result.checks if c.details), {}),
                    }
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                    limits.kill_descendants(os.getpid(), keep=server.process.pid)
                    print(f"seed {seed} {Path(path).name}: {result.status} "
                          + ", ".join(f"{n}={c['measured']}" for n, c in record["checks"].items()
                                      if c["measured"] is not None), flush=True)
    finally:
        server.close()
        for hog in hogs:
            hog.send_signal(signal.SIGKILL)
            hog.wait()
        shutil.rmtree(work, ignore_errors=True)


def summary(paths: list[str]) -> None:
    records = [json.loads(line) for p in paths for line in open(p) if line.strip()]
    groups: dict[tuple, list] = {}
    for r in records:
        for name, check in r["checks"].items():
            if check["measured"] is not None:
                budget = r["details"].get("budget_s")
                groups.setdefault((r["problem"], name, Path(r["file"]).name, r["condition"], budget), []).append(
                    (check["measured"], check["status"], r["load"], r["details"]))
    print("| problem | check | file | condition | CPU budget s | n | min | p5 | median | max | failed | threshold | "
          "load (mean) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (problem, name, file, condition, budget), rows in sorted(groups.items(), key=lambda kv: str(kv[0])):
        values = [v for v, *_ in rows]
        failed = sum(1 for _, status, *_ in rows if status != "passed")
        threshold = next((r["checks"][name]["threshold"] for r in records
                          if r["problem"] == problem and name in r["checks"]
                          and r["details"].get("budget_s") == budget), None)
        print(f"| {problem} | {name} | {file} | {condition} | {budget} | {len(values)} | {min(values):.3g} | "
              f"{_percentile(values, 5):.3g} | {statistics.median(values):.3g} | {max(values):.3g} | {failed} | "
              f"{threshold} | {statistics.mean(r[2] for r in rows):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", nargs="?")
    parser.add_argument("files", nargs="*")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--load", type=int, default=0, help="CPU-bound processes to run beside the grader")
    parser.add_argument("--condition", default="", help="label for the records (default: from --load)")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--out", default="bench-training.jsonl")
    parser.add_argument("--summary", nargs="+", metavar="JSONL", help="print percentiles of these records")
    args = parser.parse_args()
    if args.summary:
        summary(args.summary)
    elif args.problem and args.files:
        grade(args)
    else:
        parser.error("give a problem and files to grade, or --summary JSONL...")


if __name__ == "__main__":
    main()
