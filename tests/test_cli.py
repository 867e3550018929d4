"""The command line, through click's CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from conftest import ROOT
from grader import cli, registry


def invoke(*args, input=None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def test_run_solution_passes_and_writes_json(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", "p01", "--solutions", "--seed", "5", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "✓ p01_conv2d_naive" in result.output and "grader solution p01" in result.output
    data = json.loads(out.read_text())
    assert data["schema"] == 1 and data["seed"] == 5 and data["score"] == data["max_score"] > 0
    problem = data["problems"][0]
    assert problem["id"] == "p01" and problem["question"] == 1 and problem["status"] == "passed"
    assert sum(c["score"] for c in problem["checks"]) == problem["score"]
    assert {"name", "kind", "status", "score", "max_score", "message", "measured", "threshold",
            "unit"} <= set(problem["checks"][0])


def test_stubs_are_not_started_exit_1():
    result = invoke("run", "p01", "--seed", "5")
    assert result.exit_code == 1
    assert "not started" in result.output


def test_ids_by_number_and_name():
    assert registry.find("1").id == registry.find("conv2d_naive").id == registry.find("p01").id == "p01"


def test_unknown_problem_is_a_usage_error():
    result = CliRunner().invoke(cli.main, ["run", "p99"])
    assert result.exit_code == 2 and "no problem 'p99'" in result.output


def test_missing_workspace_exit_3(tmp_path):
    result = CliRunner().invoke(cli.main, ["run", "p01", "--workspace", str(tmp_path / "nope")])
    assert result.exit_code == 3 and "not a directory" in result.output


def test_hint_levels():
    one = invoke("hint", "p01").output
    three = invoke("hint", "p01", "--level", "3").output
    assert "Hint 1" in one and "Hint 2" not in one and "Hint 3" in three


def test_solution_needs_a_pass_unless_forced():
    refused = CliRunner().invoke(cli.main, ["solution", "p01"])
    assert refused.exit_code == 1 and "has not passed" in refused.output
    forced = invoke("solution", "p01", "--force")
    assert forced.exit_code == 0 and "Model answer" in forced.output


def test_solution_unlocks_after_the_learner_passes(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "p01_conv2d_naive.py").write_text((ROOT / "solutions" / "p01_conv2d_naive.py").read_text())
    assert invoke("run", "p01", "--workspace", str(ws), "--seed", "3").exit_code == 0
    assert invoke("solution", "p01").exit_code == 0
    assert "passed" in invoke("list", "--workspace", str(ws)).output


def test_grading_the_solutions_unlocks_nothing():
    invoke("run", "p01", "--solutions", "--seed", "3")
    assert CliRunner().invoke(cli.main, ["solution", "p01"]).exit_code == 1


def test_init_then_run_inside(tmp_path, monkeypatch):
    target = tmp_path / "work"
    result = invoke("init", str(target))
    assert result.exit_code == 0
    assert {p.name for p in target.glob("p*.py")} == {s.filename for s in registry.PROBLEMS}
    (target / "p01_conv2d_naive.py").write_text((ROOT / "solutions" / "p01_conv2d_naive.py").read_text())
    monkeypatch.chdir(target)
    result = invoke("run", "p01", "--seed", "9")
    assert result.exit_code == 0 and str(target) in result.output
    # init again keeps the learner's work
    invoke("init", str(target))
    assert "NotImplementedError" not in (target / "p01_conv2d_naive.py").read_text()


def test_reset_asks_and_keeps_a_backup(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    mine = ws / "p01_conv2d_naive.py"
    mine.write_text("# my work\n")
    declined = CliRunner().invoke(cli.main, ["reset", "p01", "--workspace", str(ws)], input="n\n")
    assert declined.exit_code == 1 and mine.read_text() == "# my work\n"
    done = invoke("reset", "p01", "--workspace", str(ws), "--yes")
    assert done.exit_code == 0 and "NotImplementedError" in mine.read_text()
    backup = done.output.split("kept in ")[1].strip()
    assert open(backup).read() == "# my work\n"


def test_reset_needs_an_id_or_all():
    assert CliRunner().invoke(cli.main, ["reset"]).exit_code == 2


def test_real_subprocess_and_module_entry(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "grader", "run", "p01", "--solutions", "--seed", "2",
                           "--json", str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out.read_text())["problems"][0]["status"] == "passed"


def test_doctor_runs():
    result = CliRunner().invoke(cli.main, ["doctor"])
    assert "torch" in result.output and result.exit_code in (0, 1)


def test_data_dir_flag_points_the_grader_at_full_mnist(tmp_path, monkeypatch):
    from grader import config

    monkeypatch.setenv(config.DATA_ENV, "/nowhere")  # restored after the test
    result = invoke("run", "p01", "--solutions", "--seed", "1", "--data-dir", str(tmp_path))
    assert result.exit_code == 0
    assert config.data_dir() == tmp_path.resolve()
