"""What the OS sandbox adds per worker: spawn + hello (the learner's import of p03's reference)
with the sandbox on and off, interleaved, and the median of each.

    python3 scripts/bench_sandbox.py [--rounds 30]

Run it on a quiet machine and note the load (`uptime`) beside the figure in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.runner import sandbox  # noqa: E402
from grader.runner.session import ForkServer  # noqa: E402


def _steps(workspace: str, rounds: int) -> dict:
    """Each step of ``sandbox.apply`` timed in a forked child of this (prepared) process."""
    from grader.runner import worker

    worker.preload()  # what the fork server holds: torch, the probes, the plan
    found: dict = {"environment": [], "user": [], "landlock": [], "seccomp": []}
    for _ in range(rounds):
        scratch = sandbox.make_scratch()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            marks = [time.perf_counter()]
            sandbox._scratch_environment(scratch)
            marks.append(time.perf_counter())
            ids = sandbox.drop_ids()
            if ids:
                sandbox._become(*ids)
            marks.append(time.perf_counter())
            sandbox._landlock({"workspace": workspace, "device": "cpu"}, scratch)
            marks.append(time.perf_counter())
            sandbox._seccomp()
            marks.append(time.perf_counter())
            os.write(write_end, " ".join(f"{(b - a) * 1000:.3f}" for a, b in zip(marks, marks[1:])).encode())
            os._exit(0)
        os.close(write_end)
        values = os.read(read_end, 1000).decode().split()
        os.close(read_end)
        os.waitpid(pid, 0)
        sandbox.remove_scratch(scratch)
        for key, value in zip(found, values):
            found[key].append(float(value))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    ok, why = sandbox.availability()
    if not ok:
        print(f"sandbox unavailable ({why}): nothing to measure")
        return 1
    workspace = Path(tempfile.mkdtemp(prefix="convkata-bench-"))
    shutil.copy(ROOT / "solutions" / "p03_conv_arithmetic.py", workspace)
    os.chmod(workspace, 0o755)
    config = {"learner_path": str(workspace / "p03_conv_arithmetic.py"), "workspace": str(workspace),
              "module_path": str(workspace / "p03_conv_arithmetic.py"), "device": "cpu",
              "memory_mb": 4096, "threads": 1, "env": {}, "banned": {}, "reimport": [],
              "probe_modules": []}
    server = ForkServer()
    times = {True: [], False: []}
    try:
        for round_ in range(args.rounds + 2):
            for on in (True, False):
                start = time.perf_counter()
                worker = server.spawn(dict(config, sandbox=on))
                hello = worker.hello(time.monotonic() + 120)
                elapsed = time.perf_counter() - start
                worker.finish()
                assert hello["status"] == "ready", hello
                if round_ >= 2:  # the first rounds wait for the server's torch import
                    times[on].append(elapsed)
    finally:
        server.close()
        shutil.rmtree(workspace, ignore_errors=True)
    steps = _steps(workspace=str(ROOT / "solutions"), rounds=5)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"sandbox: {sandbox.describe()}")
    print(f"worker spawn + import, median of {args.rounds}: sandbox on {on * 1000:.1f} ms, "
          f"off {off * 1000:.1f} ms, added {(on - off) * 1000:.1f} ms")
    print("inside the worker, median of 5 forked children (ms): "
          + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in steps.items()))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
