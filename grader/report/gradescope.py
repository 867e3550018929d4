"""--gradescope: Gradescope's autograder results.json, one test per check.

Format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ . The top-level ``score``
overrides the sum of the tests' on Gradescope, so we set it to exactly that sum.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.report.common import cap, internal_error_text, stamp
from grader.results import RunResult
from grader.state import write_atomic


def _test_output(problem, check) -> str:
    lines = []
    if check.status == "skipped":
        lines.append(f"skipped: {check.message}")
    elif check.message:
        lines.append(check.message)
    if check.status != "passed" and problem.message and problem.message not in check.message:
        lines.append(f"{problem.id}: {problem.message}")
    return cap("\n".join(lines))


def render(run: RunResult, visibility: str = "visible") -> str:
    tests = []
    for p_index, problem in enumerate(run.problems, 1):
        for c_index, check in enumerate(problem.checks, 1):
            tests.append({
                "name": f"{problem.id} {problem.name}: {check.name}",
                "number": f"{p_index}.{c_index}",
                "score": check.score, "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": _test_output(problem, check),
                "tags": [problem.id, check.kind],
                "visibility": visibility,
            })
    output = [f"convkata {stamp(run)['grader_version']}: {run.score}/{run.max_score} (seed {run.seed}, {run.device})"]
    for problem in run.problems:
        if problem.output:
            output.append(f"--- output of your {problem.id} code ---\n{cap(problem.output)}")
    if run.internal_error:
        tests.append({"name": "internal grader error", "number": f"{len(run.problems) + 1}.1",
                      "score": 0, "max_score": 0, "status": "failed",
                      "output": internal_error_text(run), "visibility": "visible"})
        output.append(internal_error_text(run))
    document = {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "execution_time": round(run.duration_s, 3),
        "output": "\n\n".join(output),
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": stamp(run),
        "tests": tests,
    }
    return json.dumps(document, indent=2) + "\n"


def write(run: RunResult, path: Path) -> None:
    write_atomic(path, render(run))
