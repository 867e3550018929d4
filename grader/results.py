"""The result model: what a check, a problem and a whole run produced.

Plain dataclasses built by the parent process only; reports read them and run nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import grader

GPU_SKIP = "needs a CUDA GPU"  # how a GPU check's skip message starts (reports count these apart)
CHECK_KINDS = ("correctness", "speed", "training")
CHECK_STATUSES = ("passed", "failed", "error", "skipped")
PROBLEM_STATUSES = ("passed", "failed", "error", "timeout", "not_started", "skipped")


@dataclass
class CheckResult:
    name: str
    kind: str
    status: str
    score: int
    max_score: int
    message: str = ""
    measured: Optional[float] = None
    threshold: Optional[float] = None
    unit: Optional[str] = None
    # Which way ``measured`` is better: "lower" (a time or memory ratio) or "higher" (a speed-up,
    # an accuracy); None when the check has no figure.
    direction: Optional[str] = None
    # Extra figures a report may show (training time, data set, ratio spread...).
    details: dict = field(default_factory=dict)
    # True when the learner's code raised NotImplementedError: the work is not started.
    not_implemented: bool = False

    def __post_init__(self):
        assert self.kind in CHECK_KINDS, self.kind
        assert self.status in CHECK_STATUSES, self.status
        assert 0 <= self.score <= self.max_score
        assert self.direction in (None, "lower", "higher"), self.direction

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("not_implemented")
        if not d["details"]:
            d.pop("details")
        if d["direction"] is None:
            d.pop("direction")
        return d


@dataclass
class ProblemResult:
    id: str
    name: str
    question: int
    status: str
    checks: list[CheckResult]
    duration_s: float = 0.0
    message: str = ""
    output: str = ""  # captured learner stdout/stderr, already capped

    def __post_init__(self):
        assert self.status in PROBLEM_STATUSES, self.status

    @property
    def score(self) -> int:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.max_score for c in self.checks)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "question": self.question, "status": self.status,
            "score": self.score, "max_score": self.max_score, "duration_s": round(self.duration_s, 3),
            "message": self.message, "output": self.output,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass
class RunResult:
    problems: list[ProblemResult]
    device: str
    seed: int
    duration_s: float = 0.0
    workspace: str = ""
    internal_error: str = ""  # set when the grader itself failed
    sandbox: str = ""  # "on (...)" or "unavailable (why)": grader.runner.sandbox.describe()
    # A per-run secret the grader's caller handed it (``--report-nonce-fd``), copied into every
    # report: a wrapper that uploads a report refuses one without it (a file learner code forged).
    report_nonce: str = ""

    @property
    def score(self) -> int:
        return sum(p.score for p in self.problems)

    @property
    def max_score(self) -> int:
        return sum(p.max_score for p in self.problems)

    @property
    def all_passed(self) -> bool:
        return not self.internal_error and all(p.status in ("passed", "skipped") for p in self.problems)

    def to_dict(self) -> dict:
        import torch

        d = {
            "schema": grader.SCHEMA_VERSION, "grader_version": grader.__version__,
            "score": self.score, "max_score": self.max_score, "device": self.device,
            "torch": torch.__version__.split("+")[0], "seed": self.seed,
            "duration_s": round(self.duration_s, 3), "workspace": self.workspace,
            "sandbox": self.sandbox,
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.internal_error:
            d["internal_error"] = self.internal_error
        if self.report_nonce:
            d["report_nonce"] = self.report_nonce
        return d


def score_text(score: int, max_score: int, skipped: list) -> str:
    """``8/8, 1 GPU point skipped``: points of skipped checks (``skipped``, CheckResults) are shown
    apart from the graded total, never as lost. "GPU" when every one of them needs a GPU."""
    points = sum(c.max_score for c in skipped)
    if not points:
        return f"{score}/{max_score}"
    kind = "GPU " if all(c.message.startswith(GPU_SKIP) for c in skipped) else ""
    graded = f"{score}/{max_score - points}, " if max_score > points else ""
    return f"{graded}{points} {kind}point{'s' if points != 1 else ''} skipped"


def problem_score_text(problem: "ProblemResult") -> str:
    skipped = [c for c in problem.checks if c.status == "skipped"] if problem.status != "not_started" else []
    return score_text(problem.score, problem.max_score, skipped)


def run_score_text(run: "RunResult") -> str:
    skipped = [c for p in run.problems if p.status != "not_started" for c in p.checks if c.status == "skipped"]
    return score_text(run.score, run.max_score, skipped)


def problem_status(checks: list[CheckResult]) -> str:
    """Problem status from its checks, when the worker itself behaved (no crash, no timeout)."""
    graded = [c for c in checks if c.status != "skipped"]
    if not graded:
        return "skipped"
    if all(c.not_implemented for c in graded):
        return "not_started"
    if all(c.status == "passed" for c in graded):
        return "passed"
    return "failed"
