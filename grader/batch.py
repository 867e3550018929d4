"""Grade many submissions: every subdirectory of a folder is a workspace.

Each job (thread) has its own fork server, because the clean-up after a problem kills everything
its server ever forked: two streams sharing one server would kill each other's workers. A grader
failure on one submission is recorded for it and the batch goes on.

Results stay in memory until every submission is graded; the caller kills whatever they left
running, then ``write_reports`` writes every file at once, so no submission's code is alive while
any result file exists and none can touch another's (the sandbox keeps them out of the folders
too; this ordering holds without it).
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
from grader.report.writers import WRITERS
from grader.results import RunResult
from grader.spec import ProblemSpec
from grader.state import write_atomic


@dataclass
class Graded:
    name: str
    run: RunResult
    json_path: Path | None = None  # set once written


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
                         *[by_id.get(s.id, "not_graded") for s in specs], str(item.json_path or "")])
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


def grade_one(workspace: Path, specs: list[ProblemSpec], options: grading.Options, servers: _Servers) -> Graded:
    run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(workspace))
    try:
        run = grading.grade(specs, workspace, options, server=servers.get())
    except Exception as exc:  # the grader failed on this one: record it, keep going
        run.internal_error = "".join(traceback.format_exception(exc))
        servers.discard()  # start the next submission on a fresh server
    return Graded(workspace.name, run)


def batch(root: Path, specs: list[ProblemSpec], options: grading.Options, *, jobs: int = 1,
          on_done: Callable[[Graded], None] | None = None) -> list[Graded]:
    """Grade every submission under ``root`` (``jobs`` at a time); the results, by name. Writes
    nothing: see ``write_reports``."""
    servers = _Servers()
    graded: list[Graded] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(grade_one, ws, specs, options, servers) for ws in submissions(root)]
            for future in as_completed(futures):
                item = future.result()
                graded.append(item)
                if on_done:
                    on_done(item)
    finally:
        servers.close()
    return sorted(graded, key=lambda g: g.name)


def write_reports(graded: list[Graded], specs: list[ProblemSpec], folders: dict[str, Path],
                  csv_path: Path | None = None) -> list[str]:
    """Write each submission's reports (``folders``: writer name -> folder, NAME + the writer's
    suffix in it) and the CSV, each atomically. Returns what could not be written (empty when
    all was), so that the caller exits 4 and says so."""
    failures = []
    for name, folder in folders.items():
        writer = WRITERS[name]
        for item in graded:
            target = Path(folder) / f"{item.name}{writer.suffix}"
            try:
                writer(item.run, target)
            except OSError as exc:
                failures.append(f"{target}: {exc}")
                continue
            if name == "json":
                item.json_path = target
    if csv_path:
        try:
            write_atomic(csv_path, csv_text(graded, specs))
        except OSError as exc:
            failures.append(f"{csv_path}: {exc}")
    return failures
