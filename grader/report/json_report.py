"""--json: the versioned result document of SPEC.md, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from grader.results import RunResult
from grader.state import write_atomic


def render(run: RunResult) -> str:
    return json.dumps(run.to_dict(), indent=2) + "\n"


def write(run: RunResult, path: Path) -> None:
    write_atomic(path, render(run))
