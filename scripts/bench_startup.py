"""How long `grader run` takes from a cold command line, on a fresh copy of the shipped stubs.

Goals: a fresh checkout (every stub untouched) graded in at most 1.5 s on 2 cores (issue 12: no
worker, no fork server, no torch: each untouched stub is recognised by its content hash); a
problem that needs a worker pays the fork server's start. The machine's load is printed before and
after (other people's work on the same cores changes every figure): repeat when it is quiet.

Run: python3 scripts/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _workspaces(base: Path) -> dict[str, Path]:
    from grader import registry, workspace

    stubs = base / "stubs"
    stubs.mkdir()
    for spec in registry.PROBLEMS:
        (stubs / spec.filename).write_text(workspace.pristine_stub(spec))
    one_started = base / "one-started"
    shutil.copytree(stubs, one_started)
    name = "p03_conv_arithmetic.py"
    shutil.copy(ROOT / "solutions" / name, one_started / name)
    return {"stubs": stubs, "one-started": one_started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp())
    spaces = _workspaces(base)
    commands = {
        "grader run (all 15 stubs untouched)": ["run", "--workspace", str(spaces["stubs"])],
        "grader run p03 p04 (stubs untouched)": ["run", "p03", "p04", "--workspace", str(spaces["stubs"])],
        "grader run p03 p04 (p03 solved: one worker)": ["run", "p03", "p04", "--workspace", str(spaces["one-started"])],
    }
    env = dict(os.environ, CONVKATA_STATE_DIR=str(base / "state"), PYTHONPATH=str(ROOT))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; "
          f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, argv in commands.items():
        times, cpu = [], []
        for _ in range(args.repeats):
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "grader", *argv, "--seed", "1"], capture_output=True,
                                  env=env, cwd=base)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CPU it used: load-independent
            cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
            if proc.returncode not in (0, 1):
                sys.exit(f"{label} failed ({proc.returncode}):\n{proc.stdout.decode()}{proc.stderr.decode()}")
        print(f"{label}: median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
              f"max {max(times):.2f} s over {args.repeats} runs; CPU time median {statistics.median(cpu):.2f} s")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
