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
    specs = [registry.find("p01")]
    graded = batch.batch(root, specs, options, jobs=2)
    assert not (tmp_path / "out").exists()  # nothing is written while submissions run
    assert batch.write_reports(graded, specs, {"json": csv_path.parent}, csv_path) == []
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


def test_batch_command_writes_every_format(tmp_path):
    from grader.report.writers import WRITERS

    root = tmp_path / "subs"
    for name in ("good", "empty"):
        (root / name).mkdir(parents=True)
    shutil.copy(SUBS / "correct_vectorised_windows.py", root / "good" / "p01_conv2d_naive.py")
    formats = [arg for w in WRITERS.values() if w.name != "json"
               for arg in (w.option, str(tmp_path / w.name))]
    result = CliRunner().invoke(cli.main, ["batch", str(root), "p01", "--jobs", "2", "--seed", "5",
                                           "--time-scale", "2", "--data-dir", str(tmp_path),
                                           "--csv", str(tmp_path / "g.csv"), "--out", str(tmp_path / "json"),
                                           *formats])
    assert result.exit_code == cli.EXIT_FAILED, result.output  # "empty" is not started
    full = registry.find("p01").max_score
    assert f"good: {full}/{full} passed" in result.output
    rows = list(csv.DictReader((tmp_path / "g.csv").open()))
    assert {r["name"]: r["p01"] for r in rows} == {"empty": "not_started", "good": "passed"}
    assert (tmp_path / "json" / "good.json").is_file()
    for writer in WRITERS.values():
        if writer.name != "json":
            for name in ("good", "empty"):
                assert (tmp_path / writer.name / f"{name}{writer.suffix}").stat().st_size > 0


def test_batch_says_when_a_report_cannot_be_written_and_exits_4(tmp_path):
    root = tmp_path / "subs"
    (root / "empty").mkdir(parents=True)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be\n")
    result = CliRunner().invoke(cli.main, ["batch", str(root), "p01", "--seed", "5", "--json", str(blocked / "json")])
    assert result.exit_code == cli.EXIT_INTERNAL, result.output
    assert "could not write" in result.output


def test_one_submission_cannot_change_another_ones_results(tmp_path):
    """mallory is graded after alice (name order, one job) and overwrites alice's result file in
    the default results folder; results are written only after every submission is graded and its
    processes are dead, so alice's file is the grader's."""
    root = tmp_path / "subs"
    results = tmp_path / "subs-results"
    for name in ("alice", "mallory"):
        (root / name).mkdir(parents=True)
    shutil.copy(SUBS / "wrong_no_flip.py", root / "alice" / "p01_conv2d_naive.py")
    forged = json.dumps({"schema": 1, "score": 999, "problems": [{"id": "p01", "status": "passed"}]})
    (root / "mallory" / "p01_conv2d_naive.py").write_text(
        f"import os\nos.makedirs({str(results)!r}, exist_ok=True)\n"
        f"for name in ('alice.json', 'mallory.json'):\n"
        f"    open(os.path.join({str(results)!r}, name), 'w').write({forged!r})\n")
    result = CliRunner().invoke(cli.main, ["batch", str(root), "p01", "--jobs", "1", "--seed", "5"])
    assert result.exit_code == cli.EXIT_FAILED, result.output
    for name in ("alice", "mallory"):
        doc = json.loads((results / f"{name}.json").read_text())
        assert doc["score"] != 999 and doc["problems"][0]["status"] != "passed", (name, doc)
