"""Containment: what the hostile corpus must leave behind (nothing), beyond its verdicts.

The verdicts themselves are checked by test_corpus.py from each file's header; here we check the
side effects a header cannot express: no process survives its problem, a flood of output is capped
and does not deadlock, the public examples in ../shared/hostile get their verdicts, and a forged
result file is overwritten by a real `grader run` subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import ROOT, SHARED

HOSTILE = ROOT / "tests" / "submissions" / "p01"
SHARED_HOSTILE = sorted((SHARED / "hostile").glob("p01_*.py"))


def _alive(pid: int) -> bool:
    """A process that still runs and has not been sent SIGKILL (a killed process with a large
    address space can take a while to be torn down; a zombie has already stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
        with open(f"/proc/{pid}/status") as f:
            pending = {k: v for k, _, v in (line.partition(":") for line in f)}
        return not any(int(pending.get(k, "0").strip() or "0", 16) & (1 << 8) for k in ("SigPnd", "ShdPnd"))
    except (OSError, IndexError, ValueError):
        return False


def _pids(output: str) -> list[int]:
    """The pids a submission printed as ``STRAY <pid>`` lines (its workspace is read-only)."""
    return [int(pid) for pid in re.findall(r"STRAY (\d+)\n", output)]


def _wait_gone(pids, seconds=3.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def test_stray_children_do_not_survive_their_problem(grade_file, tmp_path):
    result = grade_file("p01", HOSTILE / "hostile_stray_children.py")
    assert result.status == "failed", result.message  # a child process escapes the op detection
    pids = _pids(result.output)
    assert len(pids) >= 2, "the submission did not record its strays"
    assert _wait_gone(pids, 0.5) == [], "a stray child (setsid + exec with an empty environment) survived"


def test_fork_bomb_is_swept(grade_file, tmp_path):
    result = grade_file("p01", HOSTILE / "hostile_fork_bomb.py")
    assert result.status == "failed"
    pids = _pids(result.output)
    assert len(pids) >= 20
    assert _wait_gone(pids, 0.5) == []


def test_output_flood_is_capped_and_still_passes(grade_file):
    start = time.monotonic()
    result = grade_file("p01", HOSTILE / "hostile_output_flood.py")
    assert result.status == "passed", result.message
    assert result.score == result.max_score
    match = re.search(r"\[truncated (\d+) bytes\]", result.output)
    assert match and int(match.group(1)) > 40_000_000, result.output[:200]
    assert len(result.output) < 200_000
    assert time.monotonic() - start < 120


def test_memory_bomb_names_the_limit(grade_file):
    result = grade_file("p01", HOSTILE / "hostile_memory_bomb.py", memory_mb=384)
    assert result.status == "failed"
    assert all(c.status != "passed" for c in result.checks)
    assert any("memory limit of 384 MiB" in c.message for c in result.checks), \
        [c.message for c in result.checks]


def test_exit_and_crash_messages_are_clear(grade_file):
    segv = grade_file("p01", HOSTILE / "hostile_segfault.py")
    assert segv.status == "error" and "SIGSEGV" in segv.message
    assert all(c.status == "error" and c.score == 0 for c in segv.checks)
    gone = grade_file("p01", HOSTILE / "hostile_os_exit_call.py")
    assert gone.status == "error" and "before answering" in gone.message


def test_tampering_is_reported_by_the_other_signal(grade_file):
    result = grade_file("p01", HOSTILE / "hostile_ctypes_unhook.py")
    assert result.status == "failed"
    texts = " ".join(c.message for c in result.checks)
    assert "audit hook" in texts or "forbidden op" in texts
    result = grade_file("p01", HOSTILE / "hostile_disable_dispatch.py")
    assert result.score == 0
    assert all("forbidden op" in c.message or "switched off" in c.message for c in result.checks)


def _shared_verdict(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    match = re.search(r'"(passed|failed|error|timeout|not_started)"', first)
    assert match, f"{path.name}: no verdict in its first line: {first}"
    return match.group(1)


@pytest.mark.skipif(not SHARED_HOSTILE, reason="../shared/hostile is not present")
@pytest.mark.parametrize("path", SHARED_HOSTILE, ids=[p.stem for p in SHARED_HOSTILE])
def test_shared_hostile_examples(path, grade_file):
    verdict = _shared_verdict(path)
    result = grade_file("p01", path, time_scale=0.05 if verdict == "timeout" else 1.0)
    assert result.status == verdict, f"{result.status}: {result.message}"
    assert result.score == 0
    if "banned op" in path.read_text().splitlines()[0]:
        conv = [c for c in result.checks if c.name.startswith("conv2d")]
        assert conv and all("aten::convolution" in c.message or "conv2d" in c.message for c in conv)


def test_forged_result_files_are_overwritten(tmp_path):
    """Through a real subprocess: the submission finds the report paths in the grader's command
    line (/proc/<ancestor>/cmdline) and writes forged files; the grader's own win."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "p01_conv2d_naive.py").write_text((HOSTILE / "hostile_forged_result.py").read_text())
    out = {kind: tmp_path / f"out.{kind}" for kind in ("json", "gradescope", "classroom", "junit", "md")}
    env = dict(os.environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "run", "p01", "--workspace", str(workspace), "--seed", "7",
         "--device", "cpu", "--json", str(out["json"]), "--gradescope", str(out["gradescope"]),
         "--classroom", str(out["classroom"]), "--junit", str(out["junit"]),
         "--github-summary", str(out["md"])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(out["json"].read_text())
    assert "forged" not in result and result["score"] < result["max_score"]
    assert result["problems"][0]["status"] == "failed"
    gradescope = json.loads(out["gradescope"].read_text())
    assert "forged" not in gradescope
    assert gradescope["score"] == sum(t["score"] for t in gradescope["tests"]) < 999
    assert json.loads(out["classroom"].read_text())["status"] == "fail"
    assert "<testsuites" in out["junit"].read_text()
    assert "forged" not in out["md"].read_text()


def test_a_daemon_that_kills_the_fork_server_dies_before_the_reports_are_written(tmp_path):
    """The grader's command line adopts orphans (a subreaper) and kills everything below it
    before it writes a report: a fully detached daemon can neither forge the file nor live on."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(HOSTILE / "hostile_daemon_outlives_grader.py", ws / "p01_conv2d_naive.py")
    out = tmp_path / "result.json"
    # With the OS sandbox this daemon cannot start at all (no exec of Python, no kill of the
    # fork server, no write in the workspace: tests/test_sandbox.py); this test is about the
    # guard-only fallback, so it turns the sandbox off.
    proc = subprocess.run([sys.executable, "-m", "grader", "run", "p01", "--workspace", str(ws),
                           "--seed", "3", "--json", str(out)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, CONVKATA_SANDBOX="off"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    alive = ws / "daemon.alive"
    assert alive.exists(), "the daemon never ran: the test proves nothing"
    stamp = alive.read_text()
    time.sleep(0.5)
    assert alive.read_text() == stamp, "the daemon outlived the grader"
    data = json.loads(out.read_text())
    assert data["schema"] == 1 and "forged" not in data and data["problems"][0]["status"] == "error"


def test_forbidden_kernels_are_refused_whatever_the_path(grade_file):
    """Issue 13, routes 1, 2 and 4: a raw thread, a call from C under _DisableTorchDispatch and a
    redispatch to the CPU key all reach the worker's refusing kernel; the check fails naming the
    op, also when the learner swallowed the refusal (no exception came back)."""
    for name, op in (("hostile_raw_thread.py", "aten::conv2d"),
                     ("hostile_disable_dispatch_from_c.py", "aten::conv2d"),
                     ("hostile_redispatch_backend.py", "aten::slow_conv_dilated2d")):
        result = grade_file("p01", HOSTILE / name)
        assert result.status == "failed", (name, result.message)
        conv = [c for c in result.checks if c.name.startswith("conv2d")]
        assert conv and all(c.status == "failed" and op in c.message and "called a forbidden op" in c.message
                            for c in conv), (name, [c.message for c in conv])


def test_the_baseline_worker_is_not_intercepted(server):
    """The trusted baseline worker (no learner module) computes F.conv2d although its config
    carries p07's bans, as speed checks need; only a learner's worker installs the refusals."""
    from grader import registry
    from grader.context import Context
    from grader.probes import timing
    from grader.runner.guard import NO_BANS

    spec = registry.find("p07")
    ctx = Context(spec, server, {"learner_path": "/nonexistent.py", "workspace": "/nonexistent",
                                 "device": "cpu", "memory_mb": 0, "threads": 1, "env": {},
                                 "banned": spec.banned.as_plain(), "reimport": []},
                  seed=1, device="cpu", deadline=time.monotonic() + 120, time_scale=1.0, speed=True)
    try:
        worker = ctx.baseline_worker()
        target = {"kind": "torch", "name": "conv2d", "args": ("x", "weight")}
        ctx.probe(timing.prepare, "k", target, {"x": [1, 2, 6, 6], "weight": [3, 2, 3, 3]}, 1, "cpu",
                  learner=False, worker=worker, banned=NO_BANS)
        went = ctx.probe(timing.go, "k", [0.0, 0.5], guard_bans=spec.banned.as_plain(), worker=worker,
                         banned=NO_BANS)
        assert type(went["sample"]) is torch.Tensor and went["sample"].shape == (2,)
    finally:
        ctx.finish()


def test_learner_code_sees_no_secret_of_the_grader_environment(tmp_path, monkeypatch, server):
    """Only an allowlist of the grader's environment reaches workers (red-team pass: any CI secret
    under an unlisted name used to reach learner code, which printed it into the report)."""
    from grader import grading, registry
    from grader.runner import limits, session
    from grader.runner.session import ForkServer

    assert "RT_SECRET_TOKEN" not in session.worker_environment({"RT_SECRET_TOKEN": "x", "PATH": "/bin"})
    monkeypatch.setenv("RT_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("CONVKATA_SEED", "31337")
    spec = registry.find("p01")
    (tmp_path / spec.filename).write_text(
        "import os\nraise RuntimeError('seen: ' + os.environ.get('RT_SECRET_TOKEN', 'absent') + ' '"
        " + os.environ.get('CONVKATA_SEED', 'no-seed'))\n")
    own = ForkServer()  # started now, with the variables set (the session's server predates them)
    try:
        result = grading.grade_problem(spec, tmp_path, grading.Options(seed=1, speed=False), own)
    finally:
        own.close()
        limits.kill_descendants(os.getpid(), keep=server.process.pid)
    assert result.status == "error" and "seen: absent no-seed" in result.message, result.message
    assert "hunter2" not in result.message and "31337" not in result.message
