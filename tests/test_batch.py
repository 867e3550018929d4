"""`grader batch`: a directory of good, wrong and hostile submissions, each with its verdict."""

from __future__ import annotations

import csv
import json
import shutil

from click.testing import CliRunner

from grader import batch, cli, grading, registry

from conftest import ROOT, TEST_SEED

SUBS = ROOT / "tests" / "submissions" / "p01"
CASES = {  # submission name -> (file, expected p01 status)
    "alice": ("correct_vectorised_windows.py", "passed"),
    "bob": ("wrong_no_flip.py", "failed"),
    "carol": ("hostile_kills_fork_server.py", "error"),
    "dave": ("hostile_syntax_error.py", "error"),
    "erin": ("hostile_stray_children.py", "failed"),  # a child process escapes the op detection
    "frank": (None, "not_started"),
}


def _tree(tmp_path):
    root = tmp_path / "submissions"
    for name, (source, _) in CASES.items():
        (root / name).mkdir(parents=True)
        if source:
            shutil.copy(SUBS / source, root / name / "p01_conv2d_naive.py")
    (root / ".git").mkdir()  # hidden directories are not submissions
    return root


def test_batch_grades_each_submission_and_keeps_going(tmp_path):
    root = _tree(tmp_path)
    csv_path = tmp_path / "out" / "grades.csv"
    options = grading.Options(seed=TEST_SEED, speed=False)
    graded = batch.batch(root, [registry.find("p01")], options, jobs=2, csv_path=csv_path)
    assert [g.name for g in graded] == sorted(CASES)
    rows = {row["name"]: row for row in csv.DictReader(csv_path.open())}
    assert set(rows) == set(CASES)
    for name, (_, expected) in CASES.items():
        row = rows[name]
        assert row["p01"] == expected, (name, row)
        result = json.loads((csv_path.parent / f"{name}.json").read_text())
        assert result["problems"][0]["status"] == expected
        assert result["schema"] == 1 and int(row["score"]) == result["score"]
        assert int(row["max_score"]) == registry.find("p01").max_score
    assert rows["alice"]["status"] == "passed" and rows["bob"]["status"] == "failed"


def test_batch_command(tmp_path):
    root = tmp_path / "subs"
    for name in ("good", "empty"):
        (root / name).mkdir(parents=True)
    shutil.copy(SUBS / "correct_vectorised_windows.py", root / "good" / "p01_conv2d_naive.py")
    result = CliRunner().invoke(cli.main, ["batch", str(root), "p01", "--jobs", "2", "--seed", "5",
                                           "--csv", str(tmp_path / "g.csv"), "--out", str(tmp_path / "json")])
    assert result.exit_code == cli.EXIT_FAILED, result.output  # "empty" is not started
    full = registry.find("p01").max_score
    assert f"good: {full}/{full} passed" in result.output
    rows = list(csv.DictReader((tmp_path / "g.csv").open()))
    assert {r["name"]: r["p01"] for r in rows} == {"empty": "not_started", "good": "passed"}
    assert (tmp_path / "json" / "good.json").is_file()
