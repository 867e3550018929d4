"""The learner's worker runs in an OS sandbox (grader/runner/sandbox.py): what it may and may not
touch, the grader's own processes, and the run's report when the sandbox is unavailable.

The routes of issue 13 that the sandbox closes are also corpus files
(tests/submissions/*/hostile_{grader_oracle,child_process_socketpair,seed_from_cmdline,...}.py);
here each denial is asserted one by one, beside the allowed actions that correct work needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT
from grader import grading, registry
from grader.runner import guard, sandbox

pytestmark = pytest.mark.skipif(not sandbox.availability()[0],
                                reason=f"no OS sandbox here: {sandbox.availability()[1]}")

# Each attempt prints "DENIED <name>" or "ALLOWED <name>"; the problem itself is not started.
PROBE = textwrap.dedent('''
    import ctypes, os, signal, socket, subprocess, sys, sysconfig, tempfile
    import grader

    GRADER = os.path.dirname(grader.__file__)
    REPORT_DIR = {report_dir!r}
    STATE_DIR = {state_dir!r}

    def attempt(name, fn):
        try:
            fn()
        except (OSError, ImportError) as exc:
            print("DENIED", name, type(exc).__name__, flush=True)
        else:
            print("ALLOWED", name, flush=True)

    def write(path):
        with open(path, "w") as f:
            f.write("x")

    def run(argv):
        subprocess.run(argv, check=True, capture_output=True)

    def copy_compiler():
        import shutil
        shutil.copy(shutil.which("cc"), os.environ["HOME"] + "/gcc")
        os.chmod(os.environ["HOME"] + "/gcc", 0o755)

    def ptrace_parent():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.ptrace(16, os.getppid(), 0, 0) != 0:  # PTRACE_ATTACH
            raise OSError(ctypes.get_errno(), "ptrace")

    attempt("write scratch home", lambda: write(os.path.join(os.environ["HOME"], "notes.txt")))
    attempt("mkstemp in TMPDIR", lambda: tempfile.mkstemp())
    attempt("write /tmp", lambda: write("/tmp/convkata-sandbox-escape"))
    attempt("write workspace", lambda: write(os.path.join(os.path.dirname(__file__), "planted.py")))
    attempt("write report dir", lambda: write(os.path.join(REPORT_DIR, "results.json")))
    attempt("write state dir", lambda: write(os.path.join(STATE_DIR, "progress.json")))
    attempt("write real home", lambda: write(os.path.join({real_home!r}, "planted")))
    attempt("write site-packages", lambda: write(os.path.join(sysconfig.get_paths()["purelib"], "zz.pth")))
    attempt("read mnist subset", lambda: open(os.path.join(GRADER, "data", "mnist_subset.npz"), "rb").read(1))
    attempt("read problem module", lambda: open(os.path.join(GRADER, "problems", "p03_conv_arithmetic.py")).read(1))
    attempt("import grader oracle", lambda: __import__("grader.problems.p03_conv_arithmetic"))
    attempt("read parent cmdline", lambda: open(f"/proc/{{os.getppid()}}/cmdline", "rb").read())
    attempt("read own status", lambda: open("/proc/self/status").read())
    attempt("ptrace parent", ptrace_parent)
    attempt("signal parent", lambda: os.kill(os.getppid(), 0))
    attempt("inet socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    attempt("unix socket", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    attempt("exec shell", lambda: run(["/bin/sh", "-c", "true"]))
    attempt("exec python", lambda: run([sys.executable, "-c", "pass"]))
    attempt("exec from scratch", lambda: (copy_compiler(), run([os.environ["HOME"] + "/gcc"])))
    attempt("exec C compiler", lambda: run(["cc", "--version"]))
    print("UID", os.getuid(), "HOME", os.environ["HOME"], "TMPDIR", os.environ["TMPDIR"], flush=True)

    raise NotImplementedError
''')

DENIED = ("write /tmp", "write workspace", "write report dir", "write state dir", "write real home",
          "write site-packages", "read mnist subset", "read problem module", "import grader oracle",
          "read parent cmdline", "ptrace parent", "signal parent", "inet socket", "unix socket",
          "exec shell", "exec python", "exec from scratch")
ALLOWED = ("write scratch home", "mkstemp in TMPDIR", "read own status", "exec C compiler")


def _outcomes(output: str) -> dict:
    found = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition(" ")
        if verdict in ("DENIED", "ALLOWED"):
            for name in DENIED + ALLOWED:
                if rest.startswith(name):
                    found[name] = verdict
    return found


def _probe_source(tmp_path: Path, state_dir: str | None = None, real_home: str | None = None) -> str:
    report_dir = tmp_path / "reports"
    report_dir.mkdir(exist_ok=True)
    return PROBE.format(report_dir=str(report_dir), state_dir=state_dir or os.environ["CONVKATA_STATE_DIR"],
                        real_home=real_home or os.path.expanduser("~"))


def _assert_contained(output: str) -> None:
    found = _outcomes(output)
    for name in DENIED:
        assert found.get(name) == "DENIED", f"{name}: {found.get(name)}\n{output}"
    for name in ALLOWED:
        assert found.get(name) == "ALLOWED", f"{name}: {found.get(name)}\n{output}"


def test_learner_code_is_contained(grade_file, tmp_path):
    result = grade_file("p03", _probe_source(tmp_path))
    assert result.status == "not_started", result.message
    _assert_contained(result.output)
    assert not Path("/tmp/convkata-sandbox-escape").exists()
    uid = [line for line in result.output.splitlines() if line.startswith("UID ")][0].split()
    if os.geteuid() == 0:
        assert uid[1] != "0", "a root grader's worker must run as an unprivileged user"
    home = uid[3]
    assert uid[5] == home and os.path.basename(home).startswith("convkata-worker-")
    assert not os.path.exists(home), "the scratch directory outlived its worker"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to start the grader as an ordinary user")
def test_contained_when_the_grader_is_an_ordinary_user():
    """The whole CLI as uid 65534 (with CAP_DAC_READ_SEARCH only so that it can read this
    machine's root-only Python): workers stay that user, the sandbox does the rest."""
    tmp_path = Path(tempfile.mkdtemp(prefix="convkata-user-test-"))  # pytest's is root-only
    try:
        _ordinary_user_run(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _ordinary_user_run(tmp_path: Path) -> None:
    for sub in ("ws", "state", "home", "reports"):
        (tmp_path / sub).mkdir()
    (tmp_path / "ws" / "p03_conv_arithmetic.py").write_text(
        _probe_source(tmp_path, str(tmp_path / "state"), str(tmp_path / "home")))
    shutil.chown(tmp_path, 65534, 65534)
    for sub in ("state", "home", "reports"):
        shutil.chown(tmp_path / sub, 65534, 65534)
    report = tmp_path / "reports" / "run.json"
    env = dict(os.environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), HOME=str(tmp_path / "home"),
               CONVKATA_SEED="31337", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
         sys.executable, "-m", "grader", "run", "p03", "--workspace", str(tmp_path / "ws"),
         "--json", str(report)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert report.exists(), proc.stdout + proc.stderr
    data = json.loads(report.read_text())
    assert data["seed"] == 31337  # from CONVKATA_SEED, not the command line
    assert data["sandbox"].startswith("on (Landlock") and "nobody" not in data["sandbox"]
    problem = data["problems"][0]
    assert problem["status"] == "not_started", problem
    _assert_contained(problem["output"])


def test_unavailable_sandbox_is_said_not_silent(server, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_availability", (False, "simulated: no Landlock in this kernel"))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(ROOT / "solutions" / "p03_conv_arithmetic.py", workspace)
    run = grading.grade([registry.find("p03")], workspace, grading.Options(seed=5, speed=False),
                        server=server)
    assert run.problems[0].status == "passed"  # grading works with the guard alone
    assert run.to_dict()["sandbox"] == "unavailable (simulated: no Landlock in this kernel)"
    from grader.report import terminal

    assert "sandbox: unavailable (simulated: no Landlock in this kernel)" in terminal.summary(run)
    from grader import doctor

    lines = dict(doctor.report())
    assert lines.get("sandbox: unavailable (simulated: no Landlock in this kernel)") is False


def test_run_result_names_the_sandbox(server, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = grading.grade([registry.find("p03")], workspace, grading.Options(seed=5, speed=False),
                        server=server)
    assert run.to_dict()["sandbox"].startswith("on (Landlock ABI ")


def test_expand_grants_a_denied_paths_siblings_entry_by_entry(tmp_path):
    site = tmp_path / "site-packages"
    (site / "torch").mkdir(parents=True)
    (site / "grader" / "data").mkdir(parents=True)
    (site / "six.py").write_text("")
    granted = dict(sandbox._expand(str(tmp_path), [str(site / "grader")]))
    assert granted == {str(site / "six.py"): False, str(site / "torch"): True}
    assert sandbox._expand(str(site / "grader" / "data"), [str(site / "grader")]) == []


def test_only_listed_programs_started_under_the_sandbox_are_not_tampering(monkeypatch):
    """Triton starts ldconfig and ptxas, inductor the C compiler: not tampering once Landlock
    confines execution to them; any other program, a fork, or the same tools without the
    sandbox still are."""
    cc = os.path.realpath(shutil.which("cc") or "/usr/bin/cc")
    popen = ("cc", ["cc", "--version"], None, None)
    monkeypatch.setattr(guard, "allowed_programs", frozenset())
    assert not guard._allowed_start("subprocess.Popen", popen)
    monkeypatch.setattr(guard, "allowed_programs", frozenset({cc}))
    monkeypatch.setattr(guard, "allowed_program_dirs", ("/usr/lib/gcc",))
    assert guard._allowed_start("subprocess.Popen", popen)
    assert guard._allowed_start("subprocess.Popen", (None, [cc, "-c", "x.c"], None, None))
    assert guard._allowed_start("os.posix_spawn", ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", [], {}))
    assert not guard._allowed_start("subprocess.Popen", (None, ["/bin/sh", "-c", "cc"], None, None))
    assert not guard._allowed_start("os.exec", (sys.executable, [sys.executable], {}))
    assert not guard._allowed_start("os.fork", ())
    assert not guard._allowed_start("os.system", ("cc --version",))


def test_grader_processes_are_not_dumpable():
    code = ("import ctypes; from grader.runner import sandbox; sandbox.undumpable(); "
            "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")  # PR_GET_DUMPABLE
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "0", out.stderr


def test_the_switch_turns_it_off_and_says_so(monkeypatch):
    monkeypatch.setenv(sandbox.SWITCH_ENV, "off")
    assert sandbox._probe() == (False, "turned off with CONVKATA_SANDBOX=off")
