"""Training checks (p08, p09): train the learner's model in its worker under one budget of CPU
time, read by this process from the kernel, then measure held-out accuracy here.

The budget. Everything the learner's process does counts against one number of CPU seconds
(``TrainingTask.budget_s`` times the run's time scale): importing the learner's file,
``build_model``, training and ``predict``, over all threads and the children it waited for
(``grader.runner.cputime``). Training in ``predict()`` or at import therefore buys nothing: it
spends the same budget. CPU time, not wall time, because a busy machine stretches the wall clock
of the same work two- or threefold but gives the process the same CPU seconds for it; the wall
clock is only an outer stop (``WALL_FACTOR`` times the CPU allowance) for code that sleeps or
waits. (The alternative, predicting in a fresh worker from the returned ``state_dict`` under an
inference-sized limit, would break models whose state is not all in ``state_dict`` or whose
structure ``train`` changed, and the fresh worker's import would need a budget of its own.)

Three checks share one run per problem:

1. ``trains within the time budget``: ``build_model`` then the training function, called with
   ``time_budget_s`` = the budget left after import and build_model, less a reserve for
   ``predict``. The parent polls the worker's CPU time while it runs and stops it when it passes
   that allowance plus a grace (``grace_s``).
2. ``predict returns labels``: ``predict`` on the held-out images, stopped when the whole budget
   plus the grace is spent; it must give exactly an int64 tensor of shape (M,) in 0..classes-1.
3. ``held-out accuracy``: computed here, from those labels and held-out labels that never left
   this process.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Callable

import torch

from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised, Verdict
from grader.context import derive_seed, expect_tensor
from grader.probes import training as probes
from grader.runner.cputime import CpuMeter

WALL_FACTOR = 10.0  # wall-clock outer stop: this many times the CPU seconds allowed (wall/CPU of
# correct training runs reached 3.7-7.9x on the shared 2-core machine at load averages 13-23)
WALL_SLACK_S = 10.0  # plus this (moving the data in and out), before the time scale


@dataclass
class TrainingTask:
    """What one problem trains on; built once per graded problem from the run's seed."""

    build_args: tuple
    train_entry: str  # "train_model" (p08) or "fit" (p09)
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int
    budget_s: float  # CPU seconds for import + build + training + predict, before the time scale
    threshold: float  # accuracy, 0..1
    data: str  # "subset" | "full" | "procedural": recorded in the result's details
    description: str  # for messages: "the shipped MNIST subset (4000 train / 1000 held out)"
    must_return_model: bool = True
    predict_reserve_s: float = 1.5  # of budget_s, kept back from training for predict()


@dataclass(frozen=True)
class Budget:
    """One CPU-time budget for all learner work in a training problem, in seconds (scaled).

    ``total_s`` covers import, build_model, training and predict; training is offered
    ``train_allowance(used)`` = total - reserve - what import and build used; the parent stops
    training when the worker's cumulative CPU passes ``train_limit_s`` and prediction when it
    passes ``total_limit_s``: each the planned amount plus ``grace_s``.
    """

    total_s: float
    reserve_s: float
    grace_s: float

    @classmethod
    def for_task(cls, task: TrainingTask, time_scale: float) -> "Budget":
        return cls(task.budget_s * time_scale, task.predict_reserve_s * time_scale,
                   grace_s(task.budget_s) * time_scale)

    def train_allowance(self, used_s: float) -> float:
        """CPU seconds offered to the training function after ``used_s`` went on import and build."""
        return self.total_s - self.reserve_s - used_s

    @property
    def train_limit_s(self) -> float:
        return self.total_s - self.reserve_s + self.grace_s

    @property
    def total_limit_s(self) -> float:
        return self.total_s + self.grace_s

    def wall_limit_s(self, cpu_s: float, time_scale: float) -> float:
        """The wall-clock outer stop for a call allowed ``cpu_s`` CPU seconds."""
        return WALL_FACTOR * max(cpu_s, 1.0 * time_scale) + WALL_SLACK_S * time_scale


def grace_s(budget_s: float) -> float:
    """CPU seconds of slack past a limit: the last batch, and the grader's own work in the worker
    (decoding the data, encoding the reply). 10% of the budget, at least 1 s."""
    return max(1.0, 0.1 * budget_s)


def held_out_seed(seed: int, secret: int) -> int:
    """The seed of a held-out set: the run's seed and a secret the parent draws for this run, so
    nothing the worker can see (the seed on a command line, the default seed, the generator's
    source) reproduces the held-out images."""
    return derive_seed(seed, "held-out", secret)


@dataclass
class _Run:
    task: TrainingTask
    outcome: str = "pending"  # pending | trained | not_implemented | failed
    budget: Budget | None = None
    meter: CpuMeter | None = None
    cpu: dict = field(default_factory=dict)  # phase -> CPU seconds: import, build, train, predict
    train_wall_s: float | None = None
    labels: torch.Tensor | None = None
    predict_problem: str = ""


_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _run(ctx, make_task: Callable) -> _Run:
    run = _RUNS.get(ctx)
    if run is None:
        task = make_task(ctx, derive_seed(ctx.seed, ctx.spec.id, "data"))
        run = _RUNS[ctx] = _Run(task)
    return run


def _details(run: _Run, **more) -> dict:
    task = run.task
    details = {"data": task.data, "train_size": len(task.train_labels), "test_size": len(task.test_labels),
               "threshold": task.threshold, "clock": "cpu"}
    if run.budget is not None:
        details["budget_s"] = round(run.budget.total_s, 2)
    details.update({f"cpu_{phase}_s": round(seconds, 2) for phase, seconds in run.cpu.items()})
    if run.train_wall_s is not None:
        details["training_wall_s"] = round(run.train_wall_s, 2)
    details.update(more)
    return details


def _phases(run: _Run) -> str:
    return ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in run.cpu.items())


def _stop_when_over(run: _Run, limit_s: float, what: str, allowed: str) -> Callable[[], None]:
    """A watch for ``ctx.probe``: raise Fail (the worker is then killed) once the worker's
    cumulative CPU time passes ``limit_s``."""
    def watch():
        used = run.meter.read()
        if used > limit_s:
            raise Fail(f"{what} was still running when your code had used {used:.1f} s of CPU time, past "
                       f"{allowed}, and the grader stopped it. The budget covers import, build_model, "
                       f"{run.task.train_entry} and predict together, over all threads: schedule by "
                       f"time.process_time() and stop when time_budget_s is spent ({run.task.description})",
                       measured=round(used, 2), threshold=round(limit_s, 2), unit="s")
    return watch


def _wall_stopped(what: str, wall_s: float, cpu_s: float, allowed_cpu_s: float) -> Fail:
    return Fail(f"{what} was still running after {wall_s:.0f} s of wall-clock time, {WALL_FACTOR:g}x its "
                f"{allowed_cpu_s:.1f} s of CPU time, having used only {cpu_s:.1f} s of CPU: it waits (sleep, "
                f"I/O, a lock) instead of computing, or this machine is badly overloaded (--time-scale "
                f"scales every budget)", measured=round(wall_s, 2), unit="s")


def check_trains(make_task: Callable) -> Callable:
    def check(ctx) -> Verdict:
        run = _run(ctx, make_task)
        task = run.task
        budget = run.budget = Budget.for_task(task, ctx.time_scale)
        entry = f"{task.train_entry}()"
        run.outcome = "failed"
        worker = ctx.learner_worker()
        run.meter = CpuMeter(worker.pid)
        run.cpu["import"] = run.meter.read()
        try:
            built = ctx.probe(probes.build_model, task.build_args, what="build_model()",
                              timeout_s=budget.wall_limit_s(budget.total_s, ctx.time_scale),
                              watch=_stop_when_over(run, budget.train_limit_s, "build_model()",
                                                    f"the {budget.total_s:.0f} s budget"))
            if type(built) is not dict or built.get("is_module") is not True:
                shown = built.get("type") if type(built) is dict else "?"
                raise Fail(f"build_model() must return a torch.nn.Module, got {shown}")
            used = run.meter.read()
            run.cpu["build"] = used - run.cpu["import"]
            allowance = budget.train_allowance(used)
            if allowance <= 0:
                raise Fail(f"importing your file and build_model() used {used:.1f} s of CPU time ({_phases(run)}), "
                           f"the whole {budget.total_s:.0f} s budget for import, build_model, {entry} and predict "
                           f"together: nothing is left to train. Train inside {entry}, not at import",
                           measured=round(used, 2), threshold=round(budget.total_s - budget.reserve_s, 2), unit="s")
            start = time.monotonic()
            wall_limit = budget.wall_limit_s(allowance, ctx.time_scale)
            try:
                info = ctx.probe(probes.train, task.train_entry, task.train_images.clone(),
                                 task.train_labels.clone(), ctx.device, allowance,
                                 arg_names=("train_entry", "images", "labels"), timeout_s=wall_limit, what=entry,
                                 watch=_stop_when_over(
                                     run, budget.train_limit_s, entry,
                                     f"its time_budget_s of {allowance:.1f} s plus {budget.grace_s:.1f} s grace"))
            except Fail as failure:
                elapsed = time.monotonic() - start
                if failure.figures.get("unit") != "s" and elapsed >= wall_limit - 0.05:
                    raise _wall_stopped(entry, elapsed, run.meter.read() - used, allowance) from None
                raise
        except LearnerNotImplemented:
            run.outcome = "not_implemented"
            raise
        run.train_wall_s = time.monotonic() - start
        after = run.meter.read()
        run.cpu["train"] = after - used
        if after > budget.train_limit_s:  # finished between two polls, but over all the same
            raise Fail(f"{entry} used {run.cpu['train']:.1f} s of CPU time; it was offered {allowance:.1f} s "
                       f"(time_budget_s) plus {budget.grace_s:.1f} s grace ({_phases(run)})",
                       measured=round(after, 2), threshold=round(budget.train_limit_s, 2), unit="s")
        if type(info) is not dict or info.get("is_module") is not True:
            returned = info.get("returned") if type(info) is dict else "?"
            want = "the trained nn.Module" if task.must_return_model else "None or the trained nn.Module"
            raise Fail(f"{entry} must return {want}, got {returned}")
        if task.must_return_model and info.get("returned") == "None":
            raise Fail(f"{entry} returned None; it must return the trained model (an nn.Module)")
        run.outcome = "trained"
        return Verdict(True, f"{entry} used {run.cpu['train']:.1f} s of CPU time of its {allowance:.1f} s "
                             f"(import and build_model {used:.1f} s, budget {budget.total_s:.0f} s in all; "
                             f"{run.train_wall_s:.1f} s wall) on {task.description}",
                       measured=round(after, 2), threshold=round(budget.train_limit_s, 2), unit="s",
                       details=_details(run))
    return check


def _need_trained(run: _Run | None, what: str):
    if run is None or run.outcome == "pending":
        raise Fail(f"{what}: training was not run")
    if run.outcome == "not_implemented":
        raise LearnerNotImplemented(f"{run.task.train_entry} is not implemented")
    if run.outcome != "trained":
        raise Fail(f"{what}: not measured, because training did not succeed (see the check above)")


def validate_labels(labels, count: int, num_classes: int, what: str = "predict()") -> torch.Tensor:
    labels = expect_tensor(labels, what)
    if labels.dtype != torch.int64:
        hint = " (take argmax of the logits)" if labels.is_floating_point() else " (use .long())"
        raise Fail(f"{what} returned dtype {labels.dtype}, expected torch.int64 class labels{hint}")
    if tuple(labels.shape) != (count,):
        raise Fail(f"{what} returned shape {tuple(labels.shape)}, expected ({count},): one label per "
                   f"image for {count} images")
    bad = ((labels < 0) | (labels >= num_classes)).nonzero().flatten()
    if len(bad):
        i = int(bad[0])
        raise Fail(f"{what} returned {len(bad)} labels outside 0..{num_classes - 1}; first at index {i}: "
                   f"{int(labels[i])}")
    return labels


def check_predict(make_task: Callable) -> Callable:
    def check(ctx) -> Verdict:
        run = _RUNS.get(ctx)
        _need_trained(run, "predict()")
        task, budget = run.task, run.budget
        run.predict_problem = "predict() did not return valid labels (see the check above)"
        before = run.meter.read()
        left = budget.total_s - before
        start = time.monotonic()
        wall_limit = budget.wall_limit_s(max(left, budget.reserve_s), ctx.time_scale)
        try:
            got = ctx.probe(probes.predict, task.test_images.clone(), ctx.device,
                            arg_names=("images",), timeout_s=wall_limit, what="predict()",
                            watch=_stop_when_over(run, budget.total_limit_s, "predict()",
                                                  f"the {budget.total_s:.0f} s budget plus {budget.grace_s:.1f} s "
                                                  f"grace ({left:.1f} s were left after training; predict only "
                                                  f"needs to run the model)"))
        except LearnerRaised as raised:
            run.predict_problem = f"predict() raised {raised.exc_type}"
            raise
        except Fail as failure:
            elapsed = time.monotonic() - start
            if failure.figures.get("unit") != "s" and elapsed >= wall_limit - 0.05:
                raise _wall_stopped("predict()", elapsed, run.meter.read() - before, max(left, 0.0)) from None
            raise
        after = run.meter.read()
        run.cpu["predict"] = after - before
        if after > budget.total_limit_s:
            raise Fail(f"predict() used {run.cpu['predict']:.1f} s of CPU time, taking your code to {after:.1f} s, "
                       f"past the {budget.total_s:.0f} s budget plus {budget.grace_s:.1f} s grace for import, "
                       f"build_model, {task.train_entry} and predict together ({_phases(run)})",
                       measured=round(after, 2), threshold=round(budget.total_limit_s, 2), unit="s")
        run.labels = validate_labels(got, len(task.test_labels), task.num_classes)
        run.predict_problem = ""
        return Verdict(True, f"{len(run.labels)} int64 labels for {len(run.labels)} held-out images "
                             f"({run.cpu['predict']:.2f} s of CPU time)")
    return check


def check_accuracy(make_task: Callable) -> Callable:
    def check(ctx) -> Verdict:
        run = _RUNS.get(ctx)
        _need_trained(run, "accuracy")
        task = run.task
        if run.labels is None:
            raise Fail(f"accuracy not measured: {run.predict_problem or 'predict() was not run'}")
        correct = run.labels == task.test_labels
        accuracy = correct.double().mean().item()
        per_class = {c: correct[task.test_labels == c].double().mean().item()
                     for c in range(task.num_classes) if (task.test_labels == c).any()}
        worst = sorted(per_class.items(), key=lambda kv: kv[1])[:3]
        figures = dict(measured=round(100 * accuracy, 2), threshold=round(100 * task.threshold, 2), unit="%")
        details = _details(run, per_class_accuracy={str(c): round(a, 4) for c, a in per_class.items()})
        text = (f"held-out accuracy {100 * accuracy:.1f}% ({int(correct.sum())}/{len(correct)}) on "
                f"{task.description}; threshold {100 * task.threshold:.1f}%; CPU time {_phases(run)} "
                f"of a {run.budget.total_s:.0f} s budget")
        if accuracy < task.threshold:
            worst_text = ", ".join(f"{c}: {100 * a:.0f}%" for c, a in worst)
            predicted = torch.bincount(run.labels, minlength=task.num_classes)
            top = int(predicted.argmax())
            spread = (f"; {int(predicted[top])} of {len(run.labels)} predictions are class {top}"
                      if predicted[top] > 0.5 * len(run.labels) else "")
            return Verdict(False, f"{text}. Worst classes {worst_text}{spread}", details=details, **figures)
        return Verdict(True, text, details=details, **figures)
    return check
