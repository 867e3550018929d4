"""Progress between runs: a small JSON file outside every workspace, rebuilt by re-grading.

Each graded problem is remembered with the SHA-256 of the file that was graded, so that progress
stays true to the files: after `grader reset` (the file is the stub again) or an edit, `grader list`
shows *not started* or *edited since*, never a stale pass. Whether a problem ever passed on this
machine is kept apart (``passed_ever``): a later failing run does not lock its solution again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from grader import config
from grader.results import RunResult, problem_score_text


def _path() -> Path:
    return config.state_dir() / "progress.json"


def load() -> dict:
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {"workspaces": {}}
    return data if isinstance(data.get("workspaces"), dict) else {"workspaces": {}}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a temporary file in the same folder (created
    exclusively, so nothing planted there is reused), flushed, then renamed over ``path``.
    Raises OSError when the folder cannot be written; the target is then left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        finally:
            raise


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def record(run: RunResult) -> None:
    """Remember each graded problem's status for this workspace, with the graded file's hash."""
    try:
        data = load()
        entry = data["workspaces"].setdefault(run.workspace, {})
        for problem in run.problems:
            before = entry.get(problem.id, {})
            filename = f"{problem.id}_{problem.name}.py"
            entry[problem.id] = {
                "status": problem.status, "score": problem.score, "max_score": problem.max_score,
                "score_text": problem_score_text(problem),
                "sha256": file_hash(Path(run.workspace) / filename),
                "passed_ever": bool(before.get("passed_ever")) or problem.status == "passed",
                "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
        write_atomic(_path(), json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError:
        pass  # progress is a convenience; a read-only home must not fail a grading run


def statuses(workspace: Path) -> dict:
    """What was recorded for ``workspace``, by problem id (as graded, whatever the files are now)."""
    return load()["workspaces"].get(str(workspace), {})


def progress(workspace: Path, entries) -> dict:
    """The status of each problem (catalog entries) as the files are now: the recorded status
    when the file is the one graded; ``not_started`` for a missing file or the shipped stub;
    ``edited`` for a file changed since it was graded; ``not_graded`` otherwise."""
    recorded = statuses(workspace)
    now = {}
    for entry in entries:
        path = Path(workspace) / entry.filename
        seen = recorded.get(entry.id, {})
        digest = file_hash(path)
        if digest is None or digest == entry.stub_sha256:
            status = "not_started"
        elif seen and seen.get("sha256") == digest:
            status = seen["status"]
        else:
            status = "edited" if seen else "not_graded"
        item = {"status": status, "passed_ever": bool(seen.get("passed_ever"))}
        if status == seen.get("status") and "score" in seen:
            item["score_text"] = seen.get("score_text") or f"{seen['score']}/{seen['max_score']}"
        now[entry.id] = item
    return now


def passed_anywhere(problem_id: str) -> bool:
    """Whether ``problem_id`` has ever passed in any workspace on this machine (unlocks its
    solution for good, as a learner expects, even if a later run of theirs fails)."""
    return any(entry.get(problem_id, {}).get("passed_ever") or entry.get(problem_id, {}).get("status") == "passed"
               for entry in load()["workspaces"].values())
