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
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"sandbox: {sandbox.describe()}")
    print(f"worker spawn + import, median of {args.rounds}: sandbox on {on * 1000:.1f} ms, "
          f"off {off * 1000:.1f} ms, added {(on - off) * 1000:.1f} ms")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
