"""Shared fixtures: one fork server per test session, helpers to grade a file, the shipped stubs,
and a pytest marker per problem (``pytest -m p07``).

Tests never read the checkout's ``problems/``: a learner edits those files. The shipped stubs
come from ``shipped_stub`` (found by content hash, see ``grader.workspace.pristine_stub``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from grader import grading, registry, workspace
from grader.runner import limits
from grader.runner.session import ForkServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEST_SEED = int(os.environ.get("CONVKATA_TEST_SEED", "20261125"))


PROBLEM_IDS = [spec.id for spec in registry.PROBLEMS]
_PROBLEM_TOKEN = re.compile(r"(?<![a-z0-9])(p\d\d)(?![0-9])")


def problem_markers(module_name: str, param_id: str = "") -> set[str]:
    """The problems a test is about: ids in its file name (test_p11_p13_p14_cases.py) and in its
    parametrisation id (a corpus file's "p07/wrong_stride")."""
    return {pid for pid in _PROBLEM_TOKEN.findall(f"{module_name} {param_id}") if pid in PROBLEM_IDS}


def pytest_collection_modifyitems(config, items):
    triton = importlib.util.find_spec("triton") is not None
    for item in items:
        callspec = getattr(item, "callspec", None)
        found = problem_markers(Path(str(item.fspath)).stem, callspec.id if callspec else "")
        for pid in sorted(found):
            item.add_marker(getattr(pytest.mark, pid))
        if "p15" in found and not triton:
            # Triton comes with convkata where it has wheels (Linux x86_64); elsewhere p15 is
            # skipped by the grader, and its tests are skipped here with the same line.
            item.add_marker(pytest.mark.skip(reason="p15 needs Triton, not installed here: "
                                                    "pip install 'triton>=3.0' (Linux x86_64 wheels)"))


def shipped_stub(problem_id: str) -> str:
    """The stub of ``problem_id`` as shipped (never the learner's edited copy in problems/)."""
    return workspace.pristine_stub(registry.find(problem_id), strict=True)


@pytest.fixture
def shipped_stubs(tmp_path) -> Path:
    """A fresh workspace holding every shipped stub."""
    folder = tmp_path / "stubs"
    folder.mkdir()
    for spec in registry.PROBLEMS:
        (folder / spec.filename).write_text(shipped_stub(spec.id))
    return folder


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
