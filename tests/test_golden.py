"""Golden report documents, compared as exercism's test runner compares its results.json examples:
run the grader as a subprocess on a fixed example, normalise what legitimately changes from run to
run (durations, versions, paths), and diff against the committed file in tests/golden/.

After an intended change to a format, regenerate and review the diff:
    CONVKATA_UPDATE_GOLDEN=1 python3 -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, shipped_stub
from grader.report.writers import WRITERS
from grader.results import CheckResult, ProblemResult, RunResult

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("CONVKATA_UPDATE_GOLDEN") == "1"
NAMES = {w.name: f"report{w.suffix}" for w in WRITERS.values()}


def normalise(text: str, workspace: Path | None = None) -> str:
    """What may differ between two runs of the same example: durations, versions, paths."""
    if workspace is not None:
        text = text.replace(str(workspace), "<workspace>")
    text = re.sub(r'("(?:duration_s|execution_time)": )[0-9.]+', r"\g<1>0", text)
    text = re.sub(r'(time=")[0-9.]+(")', r"\g<1>0\g<2>", text)
    text = re.sub(r'("execution_time": ")[0-9.]+s(")', r"\g<1>0s\g<2>", text)
    text = re.sub(r"\b\d+\.\d+s\b", "0s", text)  # "12.0s" in summaries
    text = re.sub(r'("?(?:grader_version|torch)"?[:=] ?")[^"]+(")', r"\g<1><version>\g<2>", text)
    text = re.sub(r'(name="(?:grader_version|torch)" value=")[^"]+(")', r"\g<1><version>\g<2>", text)
    text = re.sub(r"convkata (grader )?\d+\.\d+\.\d+", r"convkata \g<1><version>", text)
    text = re.sub(r"torch \d+\.\d+\.\d+", "torch <version>", text)
    # The OS sandbox's line says what this machine's kernel offers (Landlock ABI, seccomp, user).
    text = re.sub(r'("sandbox": ")(?:on|unavailable) \([^"]*\)(")', r"\g<1><sandbox>\g<2>", text)
    text = re.sub(r'(name="sandbox" value=")(?:on|unavailable) \([^"]*\)(")', r"\g<1><sandbox>\g<2>", text)
    text = re.sub(r"(sandbox: )(?:on|unavailable) \([^\n]*\)", r"\g<1><sandbox>", text)
    return text


def _compare(example: str, texts: dict[str, str]) -> None:
    folder = GOLDEN / example
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (folder / NAMES[name]).write_text(text)
    for name, text in texts.items():
        golden = folder / NAMES[name]
        assert golden.is_file(), f"{golden} is missing: CONVKATA_UPDATE_GOLDEN=1 writes it"
        expected = golden.read_text()
        if NAMES[name].endswith(".json"):  # key order and indentation are not part of the format
            assert json.loads(text) == json.loads(expected), f"{name} differs from {golden}"
        else:
            assert text == expected, f"{name} differs from {golden}"


def test_golden_reports_of_a_real_run(tmp_path):
    """p01 the untouched stub, p03 the reference, p04 missing: three statuses from a real run."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "p01_conv2d_naive.py").write_text(shipped_stub("p01"))
    (ws / "p03_conv_arithmetic.py").write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text())
    out = tmp_path / "out"
    args = [arg for w in WRITERS.values() for arg in (w.option, str(out / NAMES[w.name]))]
    env = dict(os.environ, CONVKATA_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    env.pop("GITHUB_ACTIONS", None)
    proc = subprocess.run([sys.executable, "-m", "grader", "run", "p01", "p03", "p04", "--workspace", str(ws),
                           "--seed", "7", "--device", "cpu", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    _compare("example-real-run", {name: normalise((out / NAMES[name]).read_text(), ws) for name in WRITERS})


def _statuses() -> RunResult:
    checks = [CheckResult("worked example", "correctness", "passed", 1, 1, ""),
              CheckResult("cross_correlate2d", "correctness", "failed", 0, 2,
                          "case 0 (6x8, seed 5): max abs error 3 at [1, 2]"),
              CheckResult("conv2d", "correctness", "error", 0, 2, "TypeError: bad\ntraceback"),
              CheckResult("speed on GPU", "speed", "skipped", 0, 1, "needs a CUDA GPU; this run has none")]
    return RunResult(problems=[
        ProblemResult("p01", "conv2d_naive", 1, "failed", checks, duration_s=1.5, output="a print\n"),
        ProblemResult("p02", "simple_cnn", 2, "timeout",
                      [CheckResult("shapes", "correctness", "error", 0, 4, "no answer within the limit")],
                      duration_s=30.2, message="no answer within the problem's limit of 30 s"),
        ProblemResult("p15", "gpu_depthwise", 15, "skipped",
                      [CheckResult("fp32", "correctness", "skipped", 0, 3, "p15 needs triton: not installed")],
                      message="p15 needs triton: not installed"),
    ], device="cpu", seed=42, duration_s=31.7, workspace="/submissions/alice", internal_error="")


def test_golden_reports_of_every_status(tmp_path):
    run = _statuses()
    texts = {}
    for name, writer in WRITERS.items():
        writer(run, tmp_path / NAMES[name])
        texts[name] = normalise((tmp_path / NAMES[name]).read_text())
    _compare("example-statuses", texts)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_normalising_keeps_what_matters(name, tmp_path):
    """The comparison is not vacuous: a changed score or status shows after normalising."""
    run = _statuses()
    WRITERS[name](run, tmp_path / "a")
    run.problems[0].checks[0] = CheckResult("worked example", "correctness", "failed", 0, 1, "wrong")
    WRITERS[name](run, tmp_path / "b")
    assert normalise((tmp_path / "a").read_text()) != normalise((tmp_path / "b").read_text())
