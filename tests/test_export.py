"""`grader export gradescope`: the bundle's layout, and its run_autograder against a fake tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

from click.testing import CliRunner

from grader import cli, export

from conftest import ROOT

SUBS = ROOT / "tests" / "submissions" / "p01"
# Forges a perfect results.json and then kills the grader process itself (same user here): the
# root script must notice that the grader did not finish and write an error result instead.
FORGE_AND_KILL = '''
import json, os, signal
forged = {"score": 999, "tests": [{"name": "forged", "score": 999, "max_score": 999, "status": "passed"}]}
pid = os.getpid()
while pid > 1:
    argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
    if b"--gradescope" in argv:
        with open(argv[argv.index(b"--gradescope") + 1], "w") as f:
            json.dump(forged, f)
        os.kill(pid, signal.SIGKILL)
    pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
'''


def _bundle(tmp_path, **kwargs):
    path = export.export_gradescope(tmp_path / "autograder.zip", ["p01"], seed=5, **kwargs)
    return zipfile.ZipFile(path)


def test_bundle_layout(tmp_path):
    bundle = _bundle(tmp_path)
    names = set(bundle.namelist())
    assert {"setup.sh", "run_autograder", "convkata.env", "README.md"} <= names
    assert "convkata/pyproject.toml" in names and "convkata/grader/cli.py" in names
    assert not any("__pycache__" in n for n in names)
    assert bundle.getinfo("run_autograder").external_attr >> 16 & 0o111
    env = bundle.read("convkata.env").decode()
    assert "CONVKATA_TIME_SCALE=2.0" in env and "CONVKATA_MEMORY_MB=384" in env
    assert "CONVKATA_SEED=5" in env and 'CONVKATA_PROBLEMS="p01"' in env
    readme = bundle.read("README.md").decode()
    assert "768 MB" in readme and "0.5 vCPU" in readme and "384 MiB" in readme
    setup = bundle.read("setup.sh").decode()
    assert "download.pytorch.org/whl/cpu" in setup


def test_export_command(tmp_path):
    result = CliRunner().invoke(cli.main, ["export", "gradescope", str(tmp_path / "b.zip"), "--problems", "p01"])
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(tmp_path / "b.zip")


def _fake_autograder(tmp_path, submission: str, **extra_env):
    root = tmp_path / "autograder"
    source = root / "source"
    _bundle(tmp_path, time_scale=1.0, memory_mb=1024).extractall(source)
    (source / "run_autograder").chmod(0o755)
    nested = root / "submission" / "nested"
    nested.mkdir(parents=True)
    (nested / "p01_conv2d_naive.py").write_text(submission)
    env = dict(os.environ, CONVKATA_AUTOGRADER_ROOT=str(root), CONVKATA_PYTHON=sys.executable,
               PYTHONPATH=str(ROOT), **extra_env)
    env.pop("GITHUB_ACTIONS", None)
    proc = subprocess.run(["bash", str(source / "run_autograder")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((root / "results" / "results.json").read_text()), proc


def test_run_autograder_grades_the_submission(tmp_path):
    results, proc = _fake_autograder(tmp_path, (SUBS / "correct_vectorised_windows.py").read_text())
    assert results["score"] == sum(t["score"] for t in results["tests"]) == results["max_score"] > 0, proc.stdout
    assert all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"]["seed"] == 5


def test_run_autograder_survives_a_forged_result_and_a_killed_grader(tmp_path):
    # The OS sandbox refuses this submission's /proc reads and its kill; the wrapper's own
    # defence (a grader that did not finish reports nothing of its own) is tested without it.
    results, proc = _fake_autograder(tmp_path, FORGE_AND_KILL, CONVKATA_SANDBOX="off")
    assert results["score"] == 0, proc.stdout
    assert "did not finish" in results["output"]
    assert not any(t.get("name") == "forged" for t in results["tests"])
