"""Grade problems: one worker per problem, checks in the parent, a ProblemResult each.

Data flows one way: registry spec -> worker (learner code) -> checks (here) -> results.
"""

from __future__ import annotations

import importlib.util
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

from grader import catalog
from grader.checks import cuda_errors
from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised, Verdict
from grader.context import Context, ImportFailed
from grader.results import GPU_SKIP, CheckResult, ProblemResult, RunResult, problem_status
from grader.runner import sandbox
from grader.runner.session import BadReply, ForkServer, WorkerGone, WorkerTimeout
# The run settings and the one function that builds them live in grader.settings (no torch, so
# the CLI can decide without it whether anything must run); re-exported as this module's API.
from grader.settings import Options, build as settings, resolve_device  # noqa: F401
from grader.spec import Check, ProblemSpec


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
        return f"{GPU_SKIP}; this run has none (a GPU check is skipped, never passed)"
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


def missing_requirements(spec: ProblemSpec) -> str:
    """Why ``spec`` cannot be graded on this installation ("" when it can): a package it needs
    (``spec.requires``) is not installed. The worker runs this same interpreter, so the parent's
    view is the worker's."""
    missing = [f"{module} ({how})" for module, how in spec.requires.items()
               if importlib.util.find_spec(module) is None]
    return f"{spec.id} needs {', '.join(missing)}: not installed here" if missing else ""


def grade_problem(spec: ProblemSpec, workspace: Path, options: Options, server: ForkServer,
                  *, trust_untouched: bool = True) -> ProblemResult:
    """Grade one problem of ``workspace`` in a fresh worker of ``server``; never raises for
    anything the learner's code does (that becomes the result's status).

    A file identical to the shipped stub is *not started* at once, without a worker, unless
    ``trust_untouched`` is False (the dev check grades the stubs for real). A problem whose
    packages are missing (``spec.requires``) is ``skipped`` with the line that installs them.
    Raises GraderBug when a check itself crashes."""
    start = time.monotonic()
    path = workspace / spec.filename
    base = dict(id=spec.id, name=spec.name, question=spec.question)
    if not path.is_file():
        checks = _not_run(spec.checks, f"{spec.filename} is not in the workspace", status="failed")
        return ProblemResult(**base, status="not_started", checks=checks,
                             message=f"{spec.filename} not found in {workspace}")
    if trust_untouched and catalog.untouched(path, spec.id):
        return untouched_result(spec)
    missing = missing_requirements(spec)
    if missing:
        return ProblemResult(**base, status="skipped", checks=_not_run(spec.checks, missing, status="skipped"),
                             message=missing)
    limit = spec.time_limit_s * options.time_scale
    ctx = Context(spec, server, {
        "learner_path": str(path), "workspace": str(workspace), "device": options.device,
        # CUDA maps tens of GiB of address space at init, so RLIMIT_AS would stop it starting:
        # CUDA workers get RLIMIT_DATA instead (limits.apply_worker_limits), the same allowance.
        "memory_mb": options.memory_mb, "memory_kind": "data" if options.device == "cuda" else "as",
        "threads": options.threads,
        # Parent-side only (read by the problem's data loader, e.g. p08's full MNIST).
        "data_dir": str(options.data_dir) if options.data_dir else None,
        "env": dict(spec.worker_env.get(options.device, {})),
        # The import runs under the problem's bans too: a thread or child process started there
        # would otherwise escape both signals of the guard.
        "banned": spec.banned.as_plain(),
        "reimport": list(spec.worker_reimport) if spec.worker_env.get(options.device) else [],
        # The learner's worker runs in the OS sandbox wherever the kernel offers one.
        "sandbox": sandbox.availability()[0],
        # The C toolchain only where nothing is banned: a learner-built extension calls libtorch's
        # kernels past the refusals. Triton on CUDA compiles its launcher with it (accepted there;
        # docs/architecture.md says what remains).
        "compiler": not spec.banned or options.device == "cuda",
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


def needs_worker(spec: ProblemSpec, workspace: Path, trust_untouched: bool = True) -> bool:
    """Whether grading ``spec`` in ``workspace`` runs learner code (else no fork server is needed)."""
    path = workspace / spec.filename
    if not path.is_file() or (trust_untouched and catalog.untouched(path, spec.id)):
        return False
    return not missing_requirements(spec)


def untouched_result(spec: ProblemSpec) -> ProblemResult:
    """*not started* for a file identical to the shipped stub, with the spec's own checks."""
    return ProblemResult(id=spec.id, name=spec.name, question=spec.question, status="not_started",
                         checks=_not_run(spec.checks, catalog.UNTOUCHED_MESSAGE, status="failed"),
                         message=catalog.UNTOUCHED_MESSAGE)


def grade(specs: list[ProblemSpec], workspace: Path, options: Options,
          on_result: Callable[[ProblemResult], None] | None = None,
          on_start: Callable[[ProblemSpec], None] | None = None,
          server: ForkServer | None = None, *, trust_untouched: bool = True) -> RunResult:
    """Grade ``specs`` in order with one fork server, started only when a problem needs a worker.
    Never raises for learner trouble; a grader bug is recorded in ``internal_error`` and the
    problems graded so far are kept."""
    start = time.monotonic()
    run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(workspace),
                    sandbox=sandbox.describe())
    own_server = server is None
    try:
        for spec in specs:
            if on_start:
                on_start(spec)
            try:
                if server is None and needs_worker(spec, workspace, trust_untouched):
                    server = ForkServer()
                result = grade_problem(spec, workspace, options, server, trust_untouched=trust_untouched)
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
        if own_server and server is not None:
            server.close()
        run.duration_s = time.monotonic() - start
    return run
