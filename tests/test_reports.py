"""Report formats (JUnit, Gradescope, GitHub summary, GitHub Classroom), crash safety and exit codes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader import cli
from grader.report import classroom, github_summary, gradescope, junit, terminal
from grader.report.writers import WRITERS
from grader.results import CheckResult, ProblemResult, RunResult

from conftest import ROOT

CORRECT = ROOT / "tests" / "submissions" / "p01" / "correct_vectorised_windows.py"
FORMATS = {"json": "out.json", "junit": "out.xml", "gradescope": "results.json",
           "github_summary": "summary.md", "classroom": "classroom.json"}


def _run(internal_error: str = "") -> RunResult:
    p01 = ProblemResult(id="p01", name="conv2d_naive", question=1, status="failed", duration_s=1.5,
                        output="print from learner \x00\x1b[31m | ::set-output name=x::1\n" * 3,
                        checks=[
                            CheckResult("worked example", "correctness", "passed", 1, 1, "ok"),
                            CheckResult("cross_correlate2d", "correctness", "failed", 0, 2,
                                        "case 0 (6x8, seed 5): max abs error 3 at [1, 2] | <b>x</b>"),
                            CheckResult("conv2d", "correctness", "error", 0, 2, "TypeError: bad\ntraceback"),
                            CheckResult("gpu", "speed", "skipped", 0, 3, "needs a CUDA GPU"),
                        ])
    p02 = ProblemResult(id="p02", name="simple_cnn", question=2, status="timeout", duration_s=9.0,
                        message="no answer within the problem's limit of 30 s",
                        checks=[CheckResult("shapes", "correctness", "error", 0, 4, "no answer")])
    p03 = ProblemResult(id="p03", name="conv_arithmetic", question=3, status="passed",
                        checks=[CheckResult("sizes", "correctness", "passed", 5, 5, "")])
    return RunResult(problems=[p01, p02, p03], device="cpu", seed=42, duration_s=12.0,
                     internal_error=internal_error)


def _all_checks(run):
    return [c for p in run.problems for c in p.checks]


def test_junit_has_a_testcase_per_check():
    run = _run()
    root = ET.fromstring(junit.render(run))
    assert root.tag == "testsuites"
    props = {p.get("name"): p.get("value") for p in root.find("properties")}
    assert props["grader_version"] == grader.__version__ and props["schema"] == str(grader.SCHEMA_VERSION)
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(_all_checks(run))
    assert int(root.get("tests")) == len(cases)
    assert int(root.get("failures")) == 1 and int(root.get("errors")) == 2 and int(root.get("skipped")) == 1
    suite = root.find("testsuite[@name='p01_conv2d_naive']")
    failure = suite.find("testcase[@name='cross_correlate2d']/failure")
    assert "max abs error 3 at [1, 2]" in failure.get("message")
    assert suite.find("testcase[@name='conv2d']/error") is not None
    assert suite.find("testcase[@name='gpu']/skipped") is not None
    assert "\x00" not in suite.find("system-out").text  # control characters cannot break the XML
    timeout = root.find("testsuite[@name='p02_simple_cnn']/testcase/error")
    assert timeout.get("type") == "timeout"


def test_gradescope_results_json():
    run = _run()
    doc = json.loads(gradescope.render(run))
    assert doc["score"] == sum(t["score"] for t in doc["tests"]) == run.score == 6
    assert doc["max_score"] == sum(t["max_score"] for t in doc["tests"]) == run.max_score
    assert isinstance(doc["execution_time"], float)
    assert doc["extra_data"]["grader_version"] == grader.__version__
    assert doc["extra_data"]["schema"] == grader.SCHEMA_VERSION
    assert len(doc["tests"]) == len(_all_checks(run))
    for test in doc["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert 0 <= test["score"] <= test["max_score"]
    skipped = next(t for t in doc["tests"] if t["name"].endswith(": gpu"))
    assert skipped["status"] == "failed" and skipped["score"] == 0 and "skipped" in skipped["output"]
    timeout = next(t for t in doc["tests"] if t["name"].startswith("p02"))
    assert "limit of 30 s" in timeout["output"]


def test_classroom_result_is_what_the_reporter_reads():
    run = _run()
    text = classroom.render(run)
    # The reporter decodes base64 JSON from `<RUNNER>_RESULTS` and sums the tests' scores.
    doc = json.loads(base64.b64decode(base64.b64encode(text.encode())).decode())
    assert doc["version"] == 1 and doc["status"] == "fail"
    assert doc["max_score"] == run.max_score
    assert sum(t["score"] for t in doc["tests"]) == run.score
    assert {t["status"] for t in doc["tests"]} <= {"pass", "fail", "error"}
    for test in doc["tests"]:
        assert {"name", "status", "score", "message"} <= set(test)
    assert doc["grader_version"] == grader.__version__ and doc["schema"] == grader.SCHEMA_VERSION
    passing = RunResult(problems=[run.problems[2]], device="cpu", seed=1)
    assert json.loads(classroom.render(passing))["status"] == "pass"


def test_github_summary_is_a_markdown_table():
    run = _run()
    text = github_summary.render(run)
    lines = text.splitlines()
    header = lines.index("| Problem | Status | Score | First failing check |")
    assert lines[header + 1] == "|---|---|---:|---|"
    rows = [line for line in lines[header + 2:] if line.startswith("| ")]
    assert len(rows) == len(run.problems)
    for row in rows:  # learner text cannot add columns or HTML
        assert row.replace("\\|", "").count("|") == 5
    assert "<b>" not in text
    assert f"grader {grader.__version__}, result schema {grader.SCHEMA_VERSION}" in text


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_internal_error_is_visible_in_every_format(kind, tmp_path):
    run = _run(internal_error="Traceback: KeyError 'boom'")
    path = tmp_path / FORMATS[kind]
    WRITERS[kind](run, path)
    text = path.read_text()
    assert "boom" in text
    if kind == "junit":
        assert ET.fromstring(text).find("testsuite[@name='grader']/testcase/error") is not None
    elif kind == "gradescope":
        doc = json.loads(text)
        assert any(t["name"] == "internal grader error" for t in doc["tests"])
        assert doc["score"] == sum(t["score"] for t in doc["tests"])
    elif kind == "classroom":
        assert json.loads(text)["status"] == "error"
    elif kind == "json":
        assert json.loads(text)["internal_error"]
    else:
        assert "grader itself failed" in text


def test_stop_commands_wrap_learner_text_in_github_actions(monkeypatch):
    problem = _run().problems[0]
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert "::stop-commands::" not in terminal.problem_line(problem, verbose=True)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    lines = terminal.problem_line(problem, verbose=True).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].split("::")[2]
    assert len(token) >= 32 and lines[-1] == f"::{token}::"
    inside = [i for i, line in enumerate(lines) if "::set-output" in line]
    assert inside and all(start < i < len(lines) - 1 for i in inside)


# -- through the command line -----------------------------------------------------------------
def _workspace(tmp_path, source: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "p01_conv2d_naive.py").write_text(source)
    return ws


def _report_args(tmp_path):
    args = []
    for kind, name in FORMATS.items():
        args += [f"--{kind.replace('_', '-')}", str(tmp_path / name)]
    return args


def test_grader_crash_leaves_valid_files_and_exit_4(tmp_path, monkeypatch):
    from grader import grading

    def explode(*args, **kwargs):
        raise RuntimeError("simulated grader bug")

    monkeypatch.setattr(grading, "grade", explode)
    ws = _workspace(tmp_path, CORRECT.read_text())
    result = CliRunner().invoke(cli.main, ["run", "p01", "--workspace", str(ws), "--seed", "3",
                                           "--device", "cpu", *_report_args(tmp_path)])
    assert result.exit_code == cli.EXIT_INTERNAL, result.output
    assert "simulated grader bug" in json.loads((tmp_path / "out.json").read_text())["internal_error"]
    assert ET.fromstring((tmp_path / "out.xml").read_text()).find("testsuite[@name='grader']") is not None
    assert json.loads((tmp_path / "results.json").read_text())["tests"][-1]["name"] == "internal grader error"
    assert json.loads((tmp_path / "classroom.json").read_text())["status"] == "error"
    assert "grader itself failed" in (tmp_path / "summary.md").read_text()


def test_exit_codes_through_click(tmp_path):
    runner = CliRunner()
    ws = _workspace(tmp_path, "# prints junk that must not reach any results file\n"
                    "print('}{ not json', flush=True)\n" + CORRECT.read_text())
    ok = runner.invoke(cli.main, ["run", "p01", "--workspace", str(ws), "--seed", "5", "--device", "cpu",
                                  *_report_args(tmp_path)])
    assert ok.exit_code == cli.EXIT_OK, ok.output
    for kind, name in FORMATS.items():  # the learner's print is data inside a field, never the stream
        text = (tmp_path / name).read_text()
        if name.endswith(".json"):
            json.loads(text)
    assert json.loads((tmp_path / "out.json").read_text())["problems"][0]["output"] == "}{ not json\n"
    ET.fromstring((tmp_path / "out.xml").read_text())
    assert "not json" not in (tmp_path / "summary.md").read_text()
    wrong = _workspace(tmp_path / "w", "def cross_correlate2d(a, b):\n    return a\n")
    assert runner.invoke(cli.main, ["run", "p01", "--workspace", str(wrong), "--device", "cpu"]).exit_code \
        == cli.EXIT_FAILED
    assert runner.invoke(cli.main, ["run", "p99"]).exit_code == cli.EXIT_USAGE
    assert runner.invoke(cli.main, ["run", "--bogus-flag"]).exit_code == cli.EXIT_USAGE
    missing = runner.invoke(cli.main, ["run", "p01", "--workspace", str(tmp_path / "nope")])
    assert missing.exit_code == cli.EXIT_WORKSPACE


def test_exit_codes_through_a_subprocess(tmp_path):
    env = dict(os.environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "grader", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300).returncode

    assert run("run", "p99") == cli.EXIT_USAGE
    assert run("run", "p01", "--workspace", str(tmp_path / "nope")) == cli.EXIT_WORKSPACE
    ws = _workspace(tmp_path, CORRECT.read_text())
    assert run("run", "p01", "--workspace", str(ws), "--device", "cpu", "--seed", "5",
               "--json", str(tmp_path / "r.json")) == cli.EXIT_OK
    assert json.loads((tmp_path / "r.json").read_text())["problems"][0]["status"] == "passed"


def test_a_report_that_cannot_be_written_exits_4_and_says_so(tmp_path, monkeypatch):
    """The report path is taken (a folder where the file should be: not even root can rename a
    file over it): the verdict is not where its reader looks, so the run is the grader's failure.
    The OS sandbox keeps learner code from taking the path (test_sandbox.py); this is the writer's
    own defence, for a machine without one."""
    from grader.runner import sandbox

    monkeypatch.setenv("CONVKATA_SANDBOX", "off")  # the fork server this run starts plans none
    monkeypatch.setattr(sandbox, "availability", lambda: (False, "off for this test"))
    taken = tmp_path / "out.json"
    # the learner's code takes the path while it runs (before, the option would be refused)
    ws = _workspace(tmp_path, f"import os\nos.makedirs({str(taken)!r}, exist_ok=True)\n"
                    f"open({str(taken / 'results.json')!r}, 'w').write('{{\"score\": 999}}')\n"
                    + CORRECT.read_text())
    result = CliRunner().invoke(cli.main, ["run", "p01", "--workspace", str(ws), "--seed", "3",
                                           "--device", "cpu", "--json", str(taken),
                                           "--junit", str(tmp_path / "fine.xml")])
    assert result.exit_code == cli.EXIT_INTERNAL, result.output
    assert "could not write the --json report" in result.output and "exit 4" in result.output
    ET.fromstring((tmp_path / "fine.xml").read_text())  # the others are still written
    assert not list(tmp_path.glob(".out.json.*"))  # no temporary file is left behind
