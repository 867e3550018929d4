"""The settings of one grading run (``Options``), and the one function that builds them from what a
command was given. Light on purpose (no torch): the CLI decides here whether anything must run.

Every setting travels as an argument, from the command line to ``Options`` to each problem's
context; nothing is passed through ``os.environ``. Environment variables are read once, as
defaults, by the CLI's options (click's ``envvar``) or by ``grader.config``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from grader import config

DEVICES = ("auto", "cpu", "cuda")


@dataclass
class Options:
    """How to grade. ``device`` is "cpu" or "cuda" once resolved ("auto" only before
    ``resolve_device``); ``time_scale`` multiplies every time limit and budget (unitless, > 0);
    ``memory_mb`` is each worker's address-space allowance in MiB beyond torch's own mapping;
    ``data_dir`` is where full MNIST was downloaded (None: ``grader.config.data_dir()``)."""

    seed: int = 1234
    device: str = "cpu"
    speed: bool = True
    time_scale: float = 1.0
    memory_mb: int = 4096
    threads: int = 0  # 0: all cores
    fail_fast: bool = False
    data_dir: Path | None = None


def fresh_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def build(*, device: str = "auto", seed: int | None = None, no_speed: bool = False,
          time_scale: float | None = None, memory_mb: int | None = None,
          data_dir: str | Path | None = None, fail_fast: bool = False) -> Options:
    """Options from a command's arguments; None takes the environment's or the built-in default.

    The device stays "auto" until ``resolve_device`` (which imports torch), so that a run with
    nothing to grade never loads torch. Raises ValueError for a value a person must fix (a
    non-positive time scale or memory, an unknown device), with a message naming the option.
    """
    if device not in DEVICES:
        raise ValueError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    scale = config.time_scale(time_scale)
    if scale <= 0:
        raise ValueError(f"--time-scale must be positive, got {scale}")
    memory = config.memory_limit_mb(memory_mb)
    if memory <= 0:
        raise ValueError(f"--memory-mb must be positive, got {memory}")
    return Options(seed=seed if seed is not None else fresh_seed(), device=device, speed=not no_speed,
                   time_scale=scale, memory_mb=memory, fail_fast=fail_fast,
                   data_dir=Path(data_dir).expanduser().resolve() if data_dir else None)


def resolve_device(options: Options) -> Options:
    """Turn "auto" into "cpu" or "cuda"; ValueError when "cuda" is asked for and torch sees none."""
    import torch

    if options.device == "auto":
        options.device = "cuda" if torch.cuda.is_available() else "cpu"
    elif options.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    return options
