"""Settings that users change through flags or environment variables."""

from __future__ import annotations

import os
from pathlib import Path

TIME_SCALE_ENV = "CONVKATA_TIME_SCALE"
MEMORY_ENV = "CONVKATA_MEMORY_MB"
STATE_ENV = "CONVKATA_STATE_DIR"
DATA_ENV = "CONVKATA_DATA_DIR"

DEFAULT_MEMORY_MB = 4096


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def time_scale(override: float | None = None) -> float:
    """Multiplier for every time limit and training budget (classroom graders give half a CPU)."""
    if override is not None:
        return override
    raw = os.environ.get(TIME_SCALE_ENV)
    return _positive_float(TIME_SCALE_ENV, raw) if raw else 1.0


def memory_limit_mb(override: int | None = None) -> int:
    """Address-space allowance for a learner's worker beyond what torch itself maps."""
    if override is not None:
        return override
    raw = os.environ.get(MEMORY_ENV)
    return int(_positive_float(MEMORY_ENV, raw)) if raw else DEFAULT_MEMORY_MB


def state_dir() -> Path:
    """Where progress and backups live: outside every workspace, so grading never writes there."""
    raw = os.environ.get(STATE_ENV)
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "convkata"


def data_dir() -> Path:
    raw = os.environ.get(DATA_ENV)
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "convkata"
