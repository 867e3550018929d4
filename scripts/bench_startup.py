"""How long grading the stubs takes from a cold command line (the fork server's reason to be).

Goals (foundation issue): `grader run p03 p04` on the stubs under 6 s, all stubs under 10 s, on
a 2-core machine. Run: python scripts/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "grader run p03 p04 (stubs)": ["run", "p03", "p04", "--seed", "1"],
    "grader run (all stubs)": ["run", "--seed", "1"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, CONVKATA_STATE_DIR=tempfile.mkdtemp())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    for label, argv in COMMANDS.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "grader", *argv], capture_output=True, env=env)
            times.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                sys.exit(f"{label} failed ({proc.returncode}):\n{proc.stdout.decode()}{proc.stderr.decode()}")
        print(f"{label}: median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
              f"max {max(times):.2f} s over {args.repeats} runs")


if __name__ == "__main__":
    main()
