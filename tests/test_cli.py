"""The command line, through click's CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from conftest import ROOT, shipped_stub
from grader import cli, registry


def invoke(*args, input=None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def list_row(ws, problem_id: str) -> str:
    wide = CliRunner(env={"COLUMNS": "400"}).invoke(cli.main, ["list", "--workspace", str(ws)],
                                                    catch_exceptions=False)
    return [line for line in wide.output.splitlines() if f" {problem_id} " in line][0]


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


def test_stubs_are_not_started_exit_1(shipped_stubs):
    result = invoke("run", "p01", "--seed", "5", "--workspace", str(shipped_stubs))
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
    assert refused.exit_code == 1 and "has never passed" in refused.output
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


def test_reset_asks_keeps_a_backup_and_says_how_to_restore_it(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    mine = ws / "p01_conv2d_naive.py"
    mine.write_text("# my work\n")
    declined = CliRunner().invoke(cli.main, ["reset", "p01", "--workspace", str(ws)], input="n\n")
    assert declined.exit_code == 1 and mine.read_text() == "# my work\n"
    done = invoke("reset", "p01", "--workspace", str(ws), "--yes")
    assert done.exit_code == 0 and mine.read_text() == shipped_stub("p01")
    backup = done.output.split("kept in ")[1].splitlines()[0].strip()
    assert open(backup).read() == "# my work\n"
    assert f"grader restore p01 --workspace {ws}" in done.output
    listed = invoke("restore", "p01", "--list", "--workspace", str(ws))
    assert listed.exit_code == 0 and backup in listed.output
    restored = invoke("restore", "p01", "--workspace", str(ws))
    assert restored.exit_code == 0 and mine.read_text() == "# my work\n"
    # the stub it replaced was kept too: a restore can be undone the same way
    kept = restored.output.split("the file it replaced is kept in ")[1].strip()
    assert open(kept).read() == shipped_stub("p01")


def test_restore_without_a_backup_says_so(tmp_path):
    result = CliRunner().invoke(cli.main, ["restore", "p02", "--workspace", str(tmp_path)])
    assert result.exit_code == 1 and "nothing to restore" in result.output
    bad = CliRunner().invoke(cli.main, ["restore", "p02", "7", "--workspace", str(tmp_path)])
    assert bad.exit_code == 1


def test_progress_is_true_after_a_reset_and_after_a_failed_run(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    mine = ws / "p03_conv_arithmetic.py"
    mine.write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text())
    assert invoke("run", "p03", "--workspace", str(ws), "--seed", "3").exit_code == 0
    row = list_row(ws, "p03")
    assert "passed" in row and "9/9" in row
    # a failing edit: the run fails, but the solution a learner has earned stays unlocked
    mine.write_text("def conv_output_size(*a, **k):\n    return 0\n")
    assert invoke("run", "p03", "--workspace", str(ws), "--seed", "3").exit_code == 1
    assert invoke("solution", "p03").exit_code == 0
    row = list_row(ws, "p03")
    assert "failed" in row and "passed before" in row
    # after a reset the file is the stub: not started, whatever was recorded
    assert invoke("reset", "p03", "--workspace", str(ws), "--yes").exit_code == 0
    row = list_row(ws, "p03")
    assert "not started" in row and "9/9" not in row
    # an edit since the last run is not shown as that run's result
    mine.write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text() + "# edited\n")
    row = list_row(ws, "p03")
    assert "edited since last run" in row


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


def test_grading_options_are_the_same_for_run_watch_and_batch():
    def names(command):
        return {o for p in command.params for o in p.opts}

    shared = {"--device", "--seed", "--no-speed", "--time-scale", "--memory-mb", "--data-dir"}
    for command in (cli.run, cli.watch_command, cli.batch):
        assert shared <= names(command), command.name
    from grader.report.writers import WRITERS

    formats = {w.option for w in WRITERS.values()}
    assert formats <= names(cli.run) and formats <= names(cli.batch)


def test_options_travel_as_arguments_not_through_the_environment(tmp_path, monkeypatch):
    """--data-dir reaches the problem's context in the worker config; os.environ is untouched."""
    import os

    from grader import config, grading

    monkeypatch.delenv(config.DATA_ENV, raising=False)
    seen = {}
    real = grading.grade

    def spy(specs, workspace, options, **kwargs):
        seen["options"] = options
        return real(specs, workspace, options, **kwargs)

    monkeypatch.setattr(grading, "grade", spy)
    result = invoke("run", "p03", "--solutions", "--seed", "1", "--data-dir", str(tmp_path),
                    "--time-scale", "3", "--memory-mb", "2048", "--no-speed")
    assert result.exit_code == 0, result.output
    options = seen["options"]
    assert (options.data_dir, options.time_scale, options.memory_mb, options.speed, options.seed) == \
        (tmp_path.resolve(), 3.0, 2048, False, 1)
    assert config.DATA_ENV not in os.environ


def test_seed_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVKATA_SEED", "424242")
    out = tmp_path / "r.json"
    assert invoke("run", "p03", "--solutions", "--json", str(out)).exit_code == 0
    assert json.loads(out.read_text())["seed"] == 424242
    assert invoke("run", "p03", "--solutions", "--seed", "7", "--json", str(out)).exit_code == 0
    assert json.loads(out.read_text())["seed"] == 7  # the flag wins


def test_bad_settings_are_usage_errors():
    assert CliRunner().invoke(cli.main, ["run", "p03", "--time-scale", "0"]).exit_code == cli.EXIT_USAGE
    assert CliRunner().invoke(cli.main, ["watch", "p03", "--memory-mb", "-1"]).exit_code == cli.EXIT_USAGE


def test_watch_takes_the_grading_options(tmp_path, monkeypatch):
    import grader.watch

    got = {}
    monkeypatch.setattr(grader.watch, "watch", lambda problem_id, **kw: got.update(kw, id=problem_id) or 0)
    result = CliRunner().invoke(cli.main, ["watch", "p03", "--time-scale", "3", "--seed", "9",
                                           "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert got["id"] == "p03" and got["options"].time_scale == 3.0 and got["options"].seed == 9


def test_untouched_stubs_start_no_worker_and_no_torch(shipped_stubs, tmp_path):
    """Every problem untouched: not started at once, without a fork server or torch (the
    benchmark of this path is scripts/bench_startup.py; no timing is asserted here)."""
    code = ("import sys, runpy; sys.argv = ['grader', 'run', '--workspace', sys.argv[1]]\n"
            "import grader.runner.session as s\n"
            "s.ForkServer.__init__ = lambda self: sys.exit('a fork server was started')\n"
            "try:\n    runpy.run_module('grader', run_name='__main__')\n"
            "finally:\n    print('TORCH' if 'torch' in sys.modules else 'NO TORCH')\n")
    env = dict(__import__("os").environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, str(shipped_stubs)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.count("not started") == len(registry.PROBLEMS) + 1  # lines and summary
    assert "NO TORCH" in proc.stdout and "error" not in proc.stdout
    # one edited file: that problem is graded in a worker, the others stay instant
    (shipped_stubs / "p03_conv_arithmetic.py").write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text())
    result = invoke("run", "p01", "p03", "--workspace", str(shipped_stubs), "--seed", "1")
    assert "✓ p03_conv_arithmetic" in result.output and "p01_conv2d_naive 0/9 not started" in result.output


def test_a_problem_whose_package_is_missing_is_skipped_with_the_install_line(tmp_path, monkeypatch):
    import importlib.util

    from grader import grading

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "triton" else real(name, *a))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "p15_gpu_depthwise.py").write_text(shipped_stub("p15") + "# started\n")
    result = grading.grade_problem(registry.find("p15"), ws, grading.Options(), server=None)
    assert result.status == "skipped" and "pip install 'triton>=3.0'" in result.message
    assert all(c.status == "skipped" for c in result.checks)


def test_skipped_gpu_points_are_shown_apart():
    from grader.report import terminal
    from grader.results import CheckResult, ProblemResult, RunResult

    problem = ProblemResult(id="p05", name="depthwise_separable", question=5, status="passed", checks=[
        CheckResult("forward", "correctness", "passed", 8, 8),
        CheckResult("speed on GPU", "speed", "skipped", 0, 1, "needs a CUDA GPU; this run has none")])
    assert "8/8, 1 GPU point skipped" in terminal.problem_line(problem)
    assert "Score 8/8, 1 GPU point skipped" in terminal.summary(RunResult([problem], "cpu", 1))
    problem.checks[1] = CheckResult("speed", "speed", "skipped", 0, 2, "speed checks are off (--no-speed)")
    assert "8/8, 2 points skipped" in terminal.problem_line(problem)


def test_a_stale_catalog_does_not_break_init_or_reset(monkeypatch):
    """A developer changed a stub and has not regenerated grader/catalog.json yet: `grader init`
    and `reset` still get a stub (the committed one); only the tests insist on the catalog."""
    import dataclasses

    import pytest

    from grader import catalog, workspace

    real = catalog.find
    monkeypatch.setattr(catalog, "find", lambda key: dataclasses.replace(real(key), stub_sha256="0" * 64,
                                                                          stub_git_blob="0" * 40))
    spec = registry.find("p03")
    assert "NotImplementedError" in workspace.pristine_stub(spec)
    with pytest.raises(LookupError, match="stub_catalog.py"):
        workspace.pristine_stub(spec, strict=True)
