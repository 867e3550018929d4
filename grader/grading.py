"""Grade problems: one worker per problem, checks in the parent, a ProblemResult each.

Data flows one way: registry spec -> worker (learner code) -> checks (here) -> results.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from grader.checks import cuda_errors
from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised, Verdict
from grader.context import Context, ImportFailed
from grader.results import CheckResult, ProblemResult, RunResult, problem_status
from grader.runner import sandbox
from grader.runner.session import BadReply, ForkServer, WorkerGone, WorkerTimeout
from grader.spec import Check, ProblemSpec


@dataclass
class Options:
    seed: int = 1234
    device: str = "cpu"
    speed: bool = True
    time_scale: float = 1.0
    memory_mb: int = 4096
    threads: int = 0  # 0: all cores
    fail_fast: bool = False


class GraderBug(Exception):
    """A check itself crashed: the grader failed, not the learner (exit code 4)."""


def _check_result(check: Check, status: str, message: str = "", **extra) -> CheckResult:
    score = check.points if status == "passed" else 0
    return CheckResult(name=check.name, kind=check.kind, status=status, score=score,
                       max_score=check.points, message=message, **extra)


def _from_verdict(check: Check, verdict: Verdict) -> CheckResult:
    status = "skipped" if verdict.skipped else ("passed" if verdict.passed else "failed")
    return _check_result(check, status, verdict.message, measured=verdict.measured,
                         threshold=verdict.threshold, unit=verdict.unit, direction=verdict.direction,
                         details=dict(verdict.details))


def _not_run(checks: Iterable[Check], message: str, status: str = "error") -> list[CheckResult]:
    return [_check_result(c, status, message) for c in checks]


def _skip_reason(check: Check, options: Options) -> str:
    if check.needs_cuda and options.device != "cuda":
        return "needs a CUDA GPU; this run has none (a GPU check is skipped, never passed)"
    if check.kind == "speed" and not options.speed:
        return "speed checks are off (--no-speed)"
    return ""


def run_check(check: Check, ctx: Context) -> CheckResult:
    """Run one check; learner-side trouble becomes the check's status, worker death propagates."""
    ctx.check_name = check.name
    try:
        verdict = check.run(ctx)
    except Fail as failure:
        figures = {k: v for k, v in failure.figures.items() if k in ("measured", "threshold", "unit", "direction")}
        return _check_result(check, "failed", failure.message, **figures)
    except LearnerNotImplemented as exc:
        if exc.answered_before:
            return _check_result(check, "failed", f"{exc.what or 'the function'} raised NotImplementedError"
                                 f" ({exc.message}) although it answered earlier calls: a feature this "
                                 "check uses is not implemented yet")
        who = f"{exc.what} is " if exc.what else ""
        return _check_result(check, "failed", f"{who}not implemented yet (raises NotImplementedError"
                             + (f": {exc.message})" if exc.message else ")"), not_implemented=True)
    except LearnerRaised as raised:
        # A CUDA error is sticky for the process: the next check gets a fresh worker.
        cuda_errors.replace_worker_after(ctx, raised.exc_type, raised.message)
        return _check_result(check, "error", raised.text)
    except (WorkerGone, WorkerTimeout, BadReply, ImportFailed):
        raise
    except Exception as exc:
        raise GraderBug(f"check {check.name!r} crashed: {''.join(traceback.format_exception(exc))}") from exc
    if not isinstance(verdict, Verdict):
        raise GraderBug(f"check {check.name!r} returned {type(verdict).__name__}, not a Verdict")
    return _from_verdict(check, verdict)


def _import_failure_message(hello: dict, filename: str) -> str:
    text = f"{filename} could not be imported: {hello.get('exc_type', 'error')}: {hello.get('message', '')}"
    if hello.get("traceback"):
        text += "\n" + hello["traceback"].rstrip()
    return text


def _probe_modules(spec: ProblemSpec) -> list[str]:
    """TRANSITION: grader modules outside grader.probes that still define probes this problem
    calls; the worker imports them before its sandbox is up (see worker._load_transitional).
    A problem module is listed only when it has probes (``def name(env, ...)``), so p03's and
    p04's oracles never enter a worker."""
    import inspect
    import sys

    names = []
    module = sys.modules.get(f"grader.problems.{spec.id}_{spec.name}")
    if module is not None and any(
            inspect.isfunction(f) and f.__module__ == module.__name__
            and list(inspect.signature(f).parameters)[:1] == ["env"] for f in vars(module).values()):
        names.append(module.__name__)
    kinds = {c.kind for c in spec.checks}
    names += [m for kind, m in (("speed", "grader.checks.speed"), ("training", "grader.checks.training"))
              if kind in kinds]
    return names


def grade_problem(spec: ProblemSpec, workspace: Path, options: Options, server: ForkServer) -> ProblemResult:
    start = time.monotonic()
    path = workspace / spec.filename
    base = dict(id=spec.id, name=spec.name, question=spec.question)
    if not path.is_file():
        checks = _not_run(spec.checks, f"{spec.filename} is not in the workspace", status="failed")
        return ProblemResult(**base, status="not_started", checks=checks,
                             message=f"{spec.filename} not found in {workspace}")
    limit = spec.time_limit_s * options.time_scale
    ctx = Context(spec, server, {
        "learner_path": str(path), "workspace": str(workspace), "device": options.device,
        # CUDA maps tens of GiB of address space at init, so RLIMIT_AS would stop it starting:
        # CUDA workers get RLIMIT_DATA instead (limits.apply_worker_limits), the same allowance.
        "memory_mb": options.memory_mb, "memory_kind": "data" if options.device == "cuda" else "as",
        "threads": options.threads,
        "env": dict(spec.worker_env.get(options.device, {})),
        # The import runs under the problem's bans too: a thread or child process started there
        # would otherwise escape both signals of the guard.
        "banned": spec.banned.as_plain(),
        "reimport": list(spec.worker_reimport) if spec.worker_env.get(options.device) else [],
        # The learner's worker runs in the OS sandbox wherever the kernel offers one.
        "sandbox": sandbox.availability()[0], "probe_modules": _probe_modules(spec),
    }, seed=options.seed, device=options.device, deadline=start + limit,
        time_scale=options.time_scale, speed=options.speed)
    results: list[CheckResult] = []
    status, message = None, ""
    try:
        ctx.learner_worker()
        for index, check in enumerate(spec.checks):
            reason = _skip_reason(check, options)
            result = _check_result(check, "skipped", reason) if reason else run_check(check, ctx)
            results.append(result)
            if options.fail_fast and result.status in ("failed", "error") and not result.not_implemented:
                results += _not_run(spec.checks[index + 1:], "not run (--fail-fast)", status="skipped")
                break
    except ImportFailed as failed:
        if failed.hello.get("status") == "not_implemented":
            status = "not_started"
        else:
            status, message = "error", _import_failure_message(failed.hello, spec.filename)
    except WorkerTimeout:
        status = "timeout"
        message = f"no answer within the problem's limit of {limit:.0f} s (an infinite loop, or too slow)"
    except WorkerGone as gone:
        status, message = "error", f"{gone.args[0] or 'the worker died'} before answering"
    except BadReply as bad:
        status, message = "error", str(bad)
    finally:
        ctx.finish()
        server.sweep()
    output = "".join(w.output() for w in ctx.workers)
    if status is None:
        status = problem_status(results)
    else:
        done = {r.name for r in results}
        rest = [c for c in spec.checks if c.name not in done]
        results += _not_run(rest, message.splitlines()[0] if message else status,
                            status="failed" if status == "not_started" else "error")
    return ProblemResult(**base, status=status, checks=results, duration_s=time.monotonic() - start,
                         message=message, output=output)


def grade(specs: list[ProblemSpec], workspace: Path, options: Options,
          on_result: Callable[[ProblemResult], None] | None = None,
          on_start: Callable[[ProblemSpec], None] | None = None,
          server: ForkServer | None = None) -> RunResult:
    """Grade ``specs`` in order with one fork server. Never raises for learner trouble; a grader
    bug is recorded in ``internal_error`` and the problems graded so far are kept."""
    start = time.monotonic()
    run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(workspace),
                    sandbox=sandbox.describe())
    own_server = server is None
    server = server or ForkServer()
    try:
        for spec in specs:
            if on_start:
                on_start(spec)
            try:
                result = grade_problem(spec, workspace, options, server)
            except Exception as bug:  # a GraderBug, or anything else: keep the other problems
                detail = str(bug) if isinstance(bug, GraderBug) else "".join(traceback.format_exception(bug))
                run.internal_error = f"{spec.id}: {detail}"
                result = ProblemResult(id=spec.id, name=spec.name, question=spec.question,
                                       status="error", checks=_not_run(spec.checks, "internal grader error"),
                                       message=f"internal grader error: {bug}")
            run.problems.append(result)
            if on_result:
                on_result(result)
    finally:
        if own_server:
            server.close()
        run.duration_s = time.monotonic() - start
    return run


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    return requested


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
