"""Progress between runs: a small JSON file outside every workspace, rebuilt by re-grading."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from grader import config
from grader.results import RunResult


def _path() -> Path:
    return config.state_dir() / "progress.json"


def load() -> dict:
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {"workspaces": {}}
    return data if isinstance(data.get("workspaces"), dict) else {"workspaces": {}}


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        finally:
            raise


def record(run: RunResult) -> None:
    """Remember each graded problem's status for this workspace."""
    try:
        data = load()
        entry = data["workspaces"].setdefault(run.workspace, {})
        for problem in run.problems:
            entry[problem.id] = {"status": problem.status, "score": problem.score,
                                 "max_score": problem.max_score,
                                 "when": time.strftime("%Y-%m-%d %H:%M:%S")}
        write_atomic(_path(), json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError:
        pass  # progress is a convenience; a read-only home must not fail a grading run


def statuses(workspace: Path) -> dict:
    return load()["workspaces"].get(str(workspace), {})


def passed_anywhere(problem_id: str) -> bool:
    return any(entry.get(problem_id, {}).get("status") == "passed"
               for entry in load()["workspaces"].values())
