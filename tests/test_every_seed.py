"""A wrong answer fails under every seed, not most (issue 10).

Each known-wrong corpus file of the problems whose cases are random is graded under several
seeds other than the corpus test's one. To keep this cheap only the checks its header names as
failing are run (the other checks are the corpus test's business), and speed checks never.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest

from conftest import ROOT, failing
from grader import grading, registry
from grader.runner import limits
from test_corpus import parse_header

PROBLEMS = ("p01", "p02", "p03", "p04", "p05", "p07", "p10", "p11", "p12", "p13", "p14")
SEEDS = tuple(int(s) for s in os.environ.get("CONVKATA_EVERY_SEED", "1 2 3 4 5").split())


def _wrong_files():
    for problem in PROBLEMS:
        for path in sorted((ROOT / "tests" / "submissions" / problem).glob("wrong_*.py")):
            header = parse_header(path)
            names = [n.strip() for n in header.get("failing", "").split(";") if n.strip()]
            if header["expected"] in ("failed", "error") and names and "speed" not in header.get("options", ""):
                yield pytest.param(problem, path, names, id=f"{problem}/{path.stem}")


@pytest.mark.parametrize("problem, path, names", list(_wrong_files()))
def test_wrong_file_fails_under_every_seed(problem, path, names, server, tmp_path):
    spec = registry.find(problem)
    only = tuple(c for c in spec.checks if c.name in names and c.kind != "speed")
    assert only, f"{path.name} names no check of {problem}: {names}"
    spec = dataclasses.replace(spec, checks=only)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(path, workspace / spec.filename)
    passed_under = {}
    for seed in SEEDS:
        try:
            result = grading.grade_problem(spec, workspace, grading.Options(seed=seed, speed=False), server)
        finally:
            limits.kill_descendants(os.getpid(), keep=server.process.pid)
        bad = failing(result)
        missed = [c.name for c in only if c.name not in bad]
        if missed:
            passed_under[seed] = missed
    assert not passed_under, f"{path.name} passes these checks under these seeds: {passed_under}"
