"""Repeatability of the speed checks: run each one N times on the same solution.

Not a unit test. For every CPU speed check (or those of the problems named), grade only that
check N times on the reference solution (or --workspace DIR) with seeds 1..N, and report how
often the verdict changed and the spread of the measured ratio. Goal (issue 4): the same verdict
N/N, spread (max - min) / median <= 10%.

    python scripts/bench_speed.py [p05 p07] [--runs 10] [--workspace DIR] [--markdown]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import grading, registry  # noqa: E402
from grader.runner.session import ForkServer  # noqa: E402


def bench(spec, check, workspace: Path, runs: int, server) -> dict:
    only = dataclasses.replace(spec, checks=(check,))
    rows = []
    for seed in range(1, runs + 1):
        start = time.monotonic()
        result = grading.grade_problem(only, workspace, grading.Options(seed=seed, speed=True), server)
        c = result.checks[0]
        rows.append({"status": c.status, "ratio": c.measured, "spread": c.details.get("spread"),
                     "samples": c.details.get("samples"), "seconds": time.monotonic() - start,
                     "message": c.message})
        print(f"  run {seed:2d}: {c.status:7s} {c.measured} {c.unit or ''} ({c.direction or '?'} is better)  "
              f"({time.monotonic() - start:.1f} s, load {os.getloadavg()[0]:.1f})", flush=True)
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    verdicts = [r["status"] for r in rows]
    majority = max(set(verdicts), key=verdicts.count)
    med = statistics.median(ratios) if ratios else float("nan")
    return {"problem": spec.id, "check": check.name, "threshold": check_threshold(rows),
            "runs": runs, "same_verdict": verdicts.count(majority), "verdict": majority,
            "median": med, "min": min(ratios, default=float("nan")), "max": max(ratios, default=float("nan")),
            "range_pct": (max(ratios) - min(ratios)) / med * 100 if ratios else float("nan"),
            "cv_pct": statistics.pstdev(ratios) / statistics.mean(ratios) * 100 if len(ratios) > 1 else 0.0,
            "inner_spread_pct": statistics.median(r["spread"] for r in rows if r["spread"] is not None) * 100
            if any(r["spread"] is not None for r in rows) else float("nan"),
            "seconds": statistics.median(r["seconds"] for r in rows), "example": rows[0]["message"]}


def check_threshold(rows) -> str:
    text = rows[0]["message"]
    return text.rpartition("allowed at most ")[2].split()[0].rstrip(";)") if "allowed at most" in text else "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workspace", type=Path, default=ROOT / "solutions")
    parser.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    args = parser.parse_args(argv)
    server = ForkServer()
    summaries = []
    start_load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"load average at the start: {start_load[0]:.1f}, {start_load[1]:.1f}, {start_load[2]:.1f}; "
          f"cores: {os.cpu_count()}", flush=True)
    try:
        for spec in registry.select(args.problems):
            for check in spec.checks:
                if check.kind != "speed" or check.needs_cuda:
                    continue
                print(f"{spec.id} / {check.name}", flush=True)
                summaries.append(bench(spec, check, args.workspace, args.runs, server))
    finally:
        server.close()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print("\nfigures: time ratio yours / baseline (x baseline time), lower is better")
    print(f"load average at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; cores: {os.cpu_count()}")
    header = "| problem | check | runs | same verdict | median ratio | min - max | range / median | CV | in-run IQR/median | s per run |"
    print(header)
    print("|" + "---|" * 10)
    for s in summaries:
        print(f"| {s['problem']} | {s['check']} | {s['runs']} | {s['same_verdict']}/{s['runs']} {s['verdict']} "
              f"(threshold {s['threshold']}) | {s['median']:.2f}x | {s['min']:.2f} - {s['max']:.2f} | "
              f"{s['range_pct']:.0f}% | {s['cv_pct']:.0f}% | {s['inner_spread_pct']:.0f}% | {s['seconds']:.0f} |")
    for s in summaries:
        print(f"\n{s['problem']} example message: {s['example']}")
    return 0 if all(s["same_verdict"] == s["runs"] for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
