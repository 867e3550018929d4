"""--classroom: the result GitHub Classroom's autograding reporter reads.

classroom-resources/autograding-grading-reporter takes, for each runner step, base64 JSON
``{version, status, max_score, tests: [{name, status, score, message, ...}]}``; it adds up the
tests' ``score`` against ``max_score``, so partial credit reaches the gradebook. Test status is
"pass", "fail" or "error"; the runner's status is "fail" when any test failed, "error" when the
grader itself failed.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.report.common import cap, internal_error_text, stamp
from grader.results import RunResult
from grader.state import write_atomic

_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "fail"}


def render(run: RunResult) -> str:
    tests = []
    for problem in run.problems:
        for check in problem.checks:
            message = check.message if check.status != "skipped" else f"skipped: {check.message}"
            if check.status != "passed" and problem.message and problem.message not in message:
                message = f"{message}\n{problem.id}: {problem.message}".strip()
            tests.append({
                "name": f"{problem.id} {check.name}", "status": _STATUS[check.status],
                "score": check.score, "max_score": check.max_score, "message": cap(message),
                "test_code": f"grader run {problem.id}", "filename": f"{problem.id}_{problem.name}.py",
                "line_no": 0, "execution_time": f"{problem.duration_s:.2f}s",
            })
    if run.internal_error:
        tests.append({"name": "internal grader error", "status": "error", "score": 0, "max_score": 0,
                      "message": internal_error_text(run), "test_code": "", "filename": "",
                      "line_no": 0, "execution_time": "0s"})
    if run.internal_error:
        status = "error"
    else:
        status = "pass" if tests and all(t["status"] == "pass" for t in tests) else "fail"
    document = {"version": 1, "status": status, "max_score": sum(t["max_score"] for t in tests),
                "tests": tests, **stamp(run)}
    return json.dumps(document, indent=2) + "\n"


def write(run: RunResult, path: Path) -> None:
    write_atomic(path, render(run))
