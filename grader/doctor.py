"""`grader doctor`: what this machine offers the grader, one line per fact."""

from __future__ import annotations

import os
import platform
import sys


def report() -> list[tuple[str, bool]]:
    lines = [(f"python {platform.python_version()} ({sys.executable})", sys.version_info >= (3, 10))]
    try:
        import torch

        lines.append((f"torch {torch.__version__}, {torch.get_num_threads()} threads", True))
        if torch.cuda.is_available():
            lines.append((f"CUDA: {torch.cuda.get_device_name(0)} (GPU checks will run)", True))
        else:
            lines.append(("CUDA: none (GPU checks will be skipped, never passed)", True))
    except ImportError:
        lines.append(("torch is not installed: pip install torch", False))
    try:
        import triton

        lines.append((f"triton {triton.__version__} (p15)", True))
    except ImportError:
        lines.append(("triton not installed: p15 needs `pip install convkata[gpu]`", True))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines.append((f"{cores} CPU cores available", True))
    try:
        from grader.data import describe

        lines.extend(describe())
    except ImportError:
        pass
    from grader.runner import sandbox

    available, _ = sandbox.availability()
    lines.append((f"sandbox: {sandbox.describe()}", available))
    from grader import config

    lines.append((f"time scale {config.time_scale()} ({config.TIME_SCALE_ENV})", True))
    lines.append((f"progress and backups in {config.state_dir()}", True))
    return lines
