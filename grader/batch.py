"""Grade many submissions: every subdirectory of a folder is a workspace.

Each job (thread) has its own fork server, because the clean-up after a problem kills everything
its server ever forked: two streams sharing one server would kill each other's workers. A grader
failure on one submission is recorded for it and the batch goes on.
"""

from __future__ import annotations

import csv
import io
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import grading
from grader.report import json_report
from grader.results import RunResult
from grader.spec import ProblemSpec
from grader.state import write_atomic


@dataclass
class Graded:
    name: str
    run: RunResult
    json_path: Path


def submissions(root: Path) -> list[Path]:
    """The workspaces under ``root``: its visible subdirectories, in name order."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def overall_status(run: RunResult) -> str:
    if run.internal_error:
        return "internal_error"
    return "passed" if run.all_passed else "failed"


def csv_text(graded: list[Graded], specs: list[ProblemSpec]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "score", "max_score", "status", *[s.id for s in specs], "json"])
    for item in sorted(graded, key=lambda g: g.name):
        by_id = {p.id: p.status for p in item.run.problems}
        writer.writerow([item.name, item.run.score, item.run.max_score, overall_status(item.run),
                         *[by_id.get(s.id, "not_graded") for s in specs], str(item.json_path)])
    return out.getvalue()


class _Servers:
    """One fork server per job thread, created on first use, all closed at the end."""

    def __init__(self):
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()

    def get(self):
        from grader.runner.session import ForkServer

        server = getattr(self._local, "server", None)
        if server is None:
            server = self._local.server = ForkServer()
            with self._lock:
                self._all.append(server)
        return server

    def discard(self):
        server = getattr(self._local, "server", None)
        self._local.server = None
        if server is not None:
            try:
                server.close()
            except Exception:
                pass

    def close(self):
        for server in self._all:
            try:
                server.close()
            except Exception:
                pass


def grade_one(workspace: Path, specs: list[ProblemSpec], options: grading.Options, servers: _Servers,
              out_dir: Path) -> Graded:
    run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(workspace))
    try:
        run = grading.grade(specs, workspace, options, server=servers.get())
    except Exception as exc:  # the grader failed on this one: record it, keep going
        run.internal_error = "".join(traceback.format_exception(exc))
        servers.discard()  # start the next submission on a fresh server
    path = out_dir / f"{workspace.name}.json"
    json_report.write(run, path)
    return Graded(workspace.name, run, path)


def batch(root: Path, specs: list[ProblemSpec], options: grading.Options, *, jobs: int = 1,
          csv_path: Path | None = None, out_dir: Path | None = None,
          on_done: Callable[[Graded], None] | None = None) -> list[Graded]:
    """Grade every submission under ``root``; write a JSON per submission and the CSV."""
    out_dir = out_dir or (csv_path.parent if csv_path else root.parent / f"{root.name}-results")
    out_dir.mkdir(parents=True, exist_ok=True)
    servers = _Servers()
    graded: list[Graded] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(grade_one, ws, specs, options, servers, out_dir)
                       for ws in submissions(root)]
            for future in as_completed(futures):
                item = future.result()
                graded.append(item)
                if on_done:
                    on_done(item)
    finally:
        servers.close()
        if csv_path:
            write_atomic(csv_path, csv_text(graded, specs))
    return sorted(graded, key=lambda g: g.name)
