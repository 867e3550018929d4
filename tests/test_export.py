"""`grader export gradescope`: the bundle's layout, and its run_autograder against a fake tree."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import subprocess
import sys
import zipfile

import pytest
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


# Route 12 (issue 13): learner code reads the report path from the grader's command line, writes a
# forged full score there and makes the folder read-only, so that a grader without root's
# privileges cannot replace it. MODE "replace-dir" instead puts a folder at the report path, which
# even root cannot rename a file over: the grader must then exit 4, never leave the forgery in use.
FORGE_AND_LOCK = '''
import json, os, shutil
MODE = "%s"
forged = {"score": 9, "max_score": 9, "execution_time": 1, "output": "all good",
          "extra_data": {"report_nonce": "0" * 32},
          "tests": [{"name": "forged", "number": "1", "score": 9, "max_score": 9, "status": "passed"}]}
pid = os.getpid()
while pid > 1:
    argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
    if b"--gradescope" in argv:
        path = argv[argv.index(b"--gradescope") + 1].decode()
        if MODE == "replace-dir":
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, "results.json"), "w") as f:
                json.dump(forged, f)
        else:
            with open(path, "w") as f:
                json.dump(forged, f)
            os.chmod(os.path.dirname(path), 0o555)
        break
    pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])


def cross_correlate2d(image, kernel):
    return image[:1, :1] * 0  # computes nothing


def convolve2d(image, kernel):
    return image[:1, :1] * 0


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return x * 0
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


def _fake_autograder(tmp_path, submission: str, run_as: int | None = None, **extra_env):
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
    if run_as is not None:  # the bundle's unprivileged user, without creating one
        env["CONVKATA_RUN_AS_UID"] = str(run_as)
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


def _ordinary_user_can_run_the_grader() -> str:
    """Why an unprivileged user cannot run this interpreter with torch here ('' when it can)."""
    if os.geteuid() != 0:
        return "the tests do not run as root, so they cannot switch to another user"
    # As the bundle's wrapper runs it: through `env`, from a directory of that user's own. (A
    # venv's python is a link into the base interpreter, which may sit under /root: then this
    # fails where a direct exec of the link seemed to work.)
    work = tempfile.mkdtemp(prefix="convkata-probe-")
    try:
        os.chown(work, 65534, 65534)
        probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                                f"HOME={work}", sys.executable, "-c", "import torch, click, rich, grader"],
                               capture_output=True, text=True, cwd=work, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if probe.returncode != 0:
        return (f"uid 65534 cannot run {sys.executable} with torch as the wrapper does (e.g. it lives "
                f"under /root): {probe.stderr.strip()[-200:]}")
    try:
        os.stat(ROOT)
    except OSError as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "no-sandbox"])
@pytest.mark.parametrize("mode", ["read-only-dir", "replace-dir"])
@pytest.mark.parametrize("user", ["root", "ordinary"])
def test_a_forged_report_is_never_uploaded(tmp_path, mode, user, sandboxed):
    """Route 12: whatever the submission does to the report path, the upload is the grader's own
    report (checked by its per-run nonce) or a visible error, never the forged 9/9. With the OS
    sandbox the submission cannot touch the path at all; without it (a kernel that lacks one) the
    wrapper's nonce check is what stands."""
    from grader.runner import sandbox

    if sandboxed and not sandbox.availability()[0]:
        pytest.skip(f"needs the OS sandbox: {sandbox.describe()}")
    if user == "ordinary":
        why = _ordinary_user_can_run_the_grader()
        if why:
            pytest.skip(why)
    extra = {} if sandboxed else {"CONVKATA_SANDBOX": "off"}
    results, proc = _fake_autograder(tmp_path, FORGE_AND_LOCK % mode,
                                     run_as=65534 if user == "ordinary" else None, **extra)
    assert not any(t.get("name") == "forged" for t in results["tests"]), proc.stdout + proc.stderr
    assert results["score"] == 0, results
    assert "report_nonce" not in results.get("extra_data", {})  # the wrapper checked and dropped it
    # root can still replace a read-only directory's file; the sandbox keeps every write away
    expect_grader_report = sandboxed or (mode == "read-only-dir" and user == "root")
    if expect_grader_report:
        assert results["tests"][0]["name"].startswith("p01"), results
    else:  # the grader could not write its report: it said so, exited 4, and nothing forged went up
        assert "cannot be used" in results["output"] and "exit code 4" in results["output"], results
        assert "could not write" in proc.stdout + proc.stderr


def test_the_report_nonce_is_copied_from_its_descriptor_into_the_report(tmp_path):
    """`--report-nonce-fd`: the secret reaches the report, and the descriptor is closed before grading."""
    ws = tmp_path / "ws"
    ws.mkdir()
    out = tmp_path / "results.json"
    read, write = os.pipe()
    os.write(write, b"feedc0ffee\n")
    os.close(write)
    env = dict(os.environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "grader", "run", "p01", "--workspace", str(ws), "--seed", "1",
                           "--gradescope", str(out), "--report-nonce-fd", str(read)], pass_fds=[read],
                          env=env, capture_output=True, text=True, timeout=120)
    os.close(read)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert json.loads(out.read_text())["extra_data"]["report_nonce"] == "feedc0ffee"
