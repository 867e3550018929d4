"""Shared fixtures: one fork server per test session, and helpers to grade a file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader import grading, registry
from grader.runner import limits
from grader.runner.session import ForkServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEST_SEED = int(os.environ.get("CONVKATA_TEST_SEED", "20261125"))


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """Progress and backups of tests never touch the developer's home."""
    monkeypatch.setenv("CONVKATA_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def server():
    # Like the CLI, this process adopts orphans, so a hostile submission's detached daemon that
    # killed the fork server lands here and is killed after its problem (see grade_file).
    limits.adopt_orphans()
    fork_server = ForkServer()
    yield fork_server
    fork_server.close()


@pytest.fixture
def grade_file(server, tmp_path):
    """grade_file("p01", path_or_source, **options) -> ProblemResult, graded in a fresh workspace."""

    def _grade(problem_id: str, source, **options):
        spec = registry.find(problem_id)
        workspace = tmp_path / f"ws-{problem_id}"
        workspace.mkdir(exist_ok=True)
        target = workspace / spec.filename
        if isinstance(source, Path):
            shutil.copy(source, target)
        else:
            target.write_text(source)
        opts = grading.Options(seed=options.pop("seed", TEST_SEED), speed=options.pop("speed", False),
                               **options)
        try:
            return grading.grade_problem(spec, workspace, opts, server)
        finally:
            # what a submission left re-parented to this process dies; the fork server stays
            limits.kill_descendants(os.getpid(), keep=server.process.pid)

    return _grade


def failing(result) -> dict:
    return {c.name: c for c in result.checks if c.status in ("failed", "error")}
