"""The corpus: known-wrong, hostile and correct-but-different submissions, each with its verdict.

Every file under tests/submissions/<problem id>/ is a whole submission for that problem. Its
header says what the grader must conclude:

    # expected: failed                      (problem status)
    # failing: check name; other check      (these checks must fail or error)
    # message: text                         (must appear in a failing check's or the problem's message)
    # options: speed                        (grade with speed checks on; default off)
    # options: sandbox                      (a route only the OS sandbox closes: skipped without one)

A correct implementation different from the reference says ``# expected: passed``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, failing

CORPUS = sorted((ROOT / "tests" / "submissions").glob("p*/*.py"))


def parse_header(path: Path) -> dict:
    header = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# "):
            break
        key, sep, value = line[2:].partition(":")
        if sep and key.strip() in ("expected", "failing", "message", "options"):
            header[key.strip()] = value.strip()
    assert "expected" in header, f"{path} has no '# expected:' header"
    return header


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.stem}" for p in CORPUS])
def test_submission_gets_its_verdict(path, grade_file):
    header = parse_header(path)
    if "sandbox" in header.get("options", "").split():
        from grader.runner import sandbox

        if not sandbox.availability()[0]:
            pytest.skip(f"needs the OS sandbox: {sandbox.describe()}")
    options = {"speed": "speed" in header.get("options", "")}
    for item in header.get("options", "").split():  # e.g. time_scale=0.05 memory_mb=512 (hostile files)
        key, sep, value = item.partition("=")
        if sep and key in ("time_scale", "memory_mb"):
            options[key] = float(value) if key == "time_scale" else int(value)
    result = grade_file(path.parent.name, path, **options)
    summary = "\n".join(f"{c.status} {c.name}: {c.message[:300]}" for c in result.checks)
    assert result.status == header["expected"], f"{result.status}: {result.message}\n{summary}"
    bad = failing(result)
    for name in filter(None, (n.strip() for n in header.get("failing", "").split(";"))):
        assert name in bad, f"check {name!r} should have failed:\n{summary}"
    if "message" in header:
        texts = [result.message] + [c.message for c in bad.values()]
        assert any(header["message"] in t for t in texts), f"no message mentions {header['message']!r}:\n{summary}"
    if header["expected"] == "passed":
        # every check that ran gave full points (a GPU check is skipped here, never passed)
        assert result.score == sum(c.max_score for c in result.checks if c.status != "skipped")
