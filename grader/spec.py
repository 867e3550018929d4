"""What a problem is: the declarations the registry holds. No behaviour lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from grader.runner.guard import BannedOps


@dataclass(frozen=True)
class Check:
    """One graded check: a small function ``run(ctx) -> Verdict`` worth ``points``."""

    name: str
    kind: str  # correctness | speed | training
    points: int
    run: Callable
    needs_cuda: bool = False  # a GPU check: skipped (never passed) where there is no GPU


@dataclass(frozen=True)
class ProblemSpec:
    id: str  # "p01": the order is the teaching order
    name: str  # "conv2d_naive": the module is f"{id}_{name}.py"
    title: str
    question: int
    question_text: str
    entry_points: tuple[str, ...]
    checks: tuple[Check, ...]
    hints: tuple[str, str, str]
    time_limit_s: float = 30.0
    banned: BannedOps = field(default_factory=BannedOps)
    # Environment variables the worker sets before importing the learner's module, by device:
    # {"cpu": {"TRITON_INTERPRET": "1"}} makes Triton kernels run on the interpreter on CPU.
    worker_env: dict = field(default_factory=dict)
    # Packages the worker re-imports after setting worker_env (those that read it at import).
    worker_reimport: tuple[str, ...] = ()
    # Packages the problem needs beyond convkata's own, each with the line that installs it:
    # {"triton": "pip install 'triton>=3.0'"}. Where one is missing the problem is `skipped`
    # with that line (not an error, not a failure).
    requires: dict = field(default_factory=dict)

    @property
    def module_name(self) -> str:
        return f"{self.id}_{self.name}"

    @property
    def filename(self) -> str:
        return f"{self.module_name}.py"

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)
