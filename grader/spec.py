"""What a problem is: the declarations the registry holds. No behaviour lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from grader.catalog import ProblemNames
from grader.runner.guard import BannedOps


@dataclass(frozen=True)
class Check:
    """One graded check: a small function ``run(ctx) -> Verdict`` worth ``points``.

    ``run`` receives a ``grader.context.Context`` and returns a ``Verdict`` (or raises ``Fail``);
    it runs in the parent, calling learner code only through ``ctx.call``/``ctx.probe``. A check
    that crashes is the grader's bug (exit 4), never the learner's.
    """

    name: str  # shown to learners and in every report; unique within the problem
    kind: str  # correctness | speed | training
    points: int  # integer, > 0; all or nothing
    run: Callable
    needs_cuda: bool = False  # a GPU check: skipped (never passed) where there is no GPU


@dataclass(frozen=True)
class ProblemSpec(ProblemNames):
    """A problem, as the registry holds it. After changing ``checks`` or a stub, regenerate
    ``grader/catalog.json`` (``python3 scripts/stub_catalog.py``)."""

    id: str  # "p01": the order is the teaching order
    name: str  # "conv2d_naive": the module is f"{id}_{name}.py"
    title: str  # a short title for tables
    question: int  # the interview question's number (1-10 from the articles; 11+ beyond them)
    question_text: str  # the question as an interviewer asks it (the stub's docstring opens with it)
    entry_points: tuple[str, ...]  # names the stub must define (the dev check verifies it)
    checks: tuple[Check, ...]  # run in this order in one worker
    hints: tuple[str, str, str]  # levels 1-3: a nudge, the method, the key idea (never the code)
    time_limit_s: float = 30.0  # wall-clock seconds for the whole problem, times --time-scale
    banned: BannedOps = field(default_factory=BannedOps)  # forbidden ops while learner code runs
    # Environment variables the worker sets before importing the learner's module, by device:
    # {"cpu": {"TRITON_INTERPRET": "1"}} makes Triton kernels run on the interpreter on CPU.
    worker_env: dict = field(default_factory=dict)
    # Packages the worker re-imports after setting worker_env (those that read it at import).
    worker_reimport: tuple[str, ...] = ()
    # Packages the problem needs beyond convkata's own, each with the line that installs it:
    # {"triton": "pip install 'triton>=3.0'"}. Where one is missing the problem is `skipped`
    # with that line (not an error, not a failure).
    requires: dict = field(default_factory=dict)
