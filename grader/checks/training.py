"""Training checks: train the learner's model in its worker under a time budget enforced from
outside, then measure held-out accuracy in the parent.

The worker gets the training images and labels only. Three checks share one run per problem:

1. ``trains within the time budget``: a probe builds the model, calls the learner's training
   function with the budget, and keeps the model in the worker (``env.state``). The parent
   times the call and stops it at budget + grace (both times the run's time scale): an
   over-budget call is a failed check and the worker is replaced.
2. ``predict returns labels``: the learner's predict on the held-out images must give exactly
   an int64 tensor of shape (M,) with values in 0..classes-1.
3. ``held-out accuracy``: computed here, in the parent, from those labels and the held-out
   labels that never left this process.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Callable

import torch

from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised, Verdict
from grader.context import derive_seed, expect_tensor

PROBES = "grader.checks.training"


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
    budget_s: float  # before the time scale
    threshold: float  # accuracy, 0..1
    data: str  # "subset" | "full" | "procedural": recorded in the result's details
    description: str  # for messages: "the shipped MNIST subset (4000 train / 1000 held out, seed S)"
    must_return_model: bool = True
    predict_limit_s: float = 30.0  # before the time scale


@dataclass
class _Run:
    task: TrainingTask
    outcome: str = "pending"  # pending | trained | not_implemented | failed
    train_s: float | None = None
    budget_s: float = 0.0
    labels: torch.Tensor | None = None
    predict_problem: str = ""
    extra: dict = field(default_factory=dict)


_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def grace_s(budget_s: float) -> float:
    """Slack for moving the data in and out and for finishing the current step."""
    return max(5.0, 0.15 * budget_s)


def _run(ctx, make_task: Callable) -> _Run:
    run = _RUNS.get(ctx)
    if run is None:
        task = make_task(ctx, derive_seed(ctx.seed, ctx.spec.id, "data"))
        run = _RUNS[ctx] = _Run(task)
    return run


# -- worker side: gather data only; learner code runs inside env.learner() -----------------------
def train_probe(env, build_args, train_entry, images, labels, device, budget_s):
    build, train = env.entry("build_model"), env.entry(train_entry)
    with env.learner():
        model = build(*build_args)
        returned = train(model, images, labels, device, budget_s)
    kept = returned if returned is not None else model
    env.state["model"] = kept
    return {"returned": "None" if returned is None else type(returned).__name__,
            "is_module": isinstance(kept, torch.nn.Module)}


def predict_probe(env, images, device):
    predict = env.entry("predict")
    with env.learner():
        return predict(env.state["model"], images, device)


# -- parent side: the three checks -------------------------------------------------------------
def _details(run: _Run, **more) -> dict:
    task = run.task
    details = {"data": task.data, "train_size": len(task.train_labels), "test_size": len(task.test_labels),
               "budget_s": round(run.budget_s, 2), "threshold": task.threshold}
    if run.train_s is not None:
        details["training_s"] = round(run.train_s, 2)
    details.update(more)
    return details


def check_trains(make_task: Callable) -> Callable:
    def check(ctx) -> Verdict:
        run = _run(ctx, make_task)
        task = run.task
        run.budget_s = budget = task.budget_s * ctx.time_scale
        limit = budget + grace_s(task.budget_s) * ctx.time_scale
        entry = f"{task.train_entry}()"
        run.outcome = "failed"
        start = time.monotonic()
        try:
            info = ctx.probe(f"{PROBES}:train_probe", task.build_args, task.train_entry,
                             task.train_images.clone(), task.train_labels.clone(), ctx.device, budget,
                             arg_names=("build_args", "train_entry", "images", "labels"),
                             timeout_s=limit, what=entry)
        except LearnerNotImplemented:
            run.outcome = "not_implemented"
            raise
        except Fail as failure:
            elapsed = time.monotonic() - start
            if elapsed >= limit - 0.05:
                raise Fail(f"{entry} was still running after {elapsed:.1f} s: its time budget is "
                           f"{budget:.0f} s (time_budget_s) plus {limit - budget:.0f} s grace, and the grader "
                           f"stopped it. Check the clock while training and stop when the budget is spent "
                           f"({task.description})", measured=elapsed, threshold=budget, unit="s") from None
            raise
        run.train_s = elapsed = time.monotonic() - start
        if type(info) is not dict or info.get("is_module") is not True:
            returned = info.get("returned") if type(info) is dict else "?"
            want = "the trained nn.Module" if task.must_return_model else "None or the trained nn.Module"
            raise Fail(f"{entry} must return {want}, got {returned}")
        if task.must_return_model and info.get("returned") == "None":
            raise Fail(f"{entry} returned None; it must return the trained model (an nn.Module)")
        run.outcome = "trained"
        return Verdict(True, f"trained in {elapsed:.1f} s of a {budget:.0f} s budget on {task.description}",
                       measured=round(elapsed, 2), threshold=round(budget, 2), unit="s", details=_details(run))
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
        task = run.task
        run.predict_problem = "predict() did not return valid labels (see the check above)"
        try:
            got = ctx.probe(f"{PROBES}:predict_probe", task.test_images.clone(), ctx.device,
                            arg_names=("images",), timeout_s=task.predict_limit_s * ctx.time_scale,
                            what="predict()")
        except LearnerRaised as raised:
            run.predict_problem = f"predict() raised {raised.exc_type}"
            raise
        run.labels = validate_labels(got, len(task.test_labels), task.num_classes)
        run.predict_problem = ""
        return Verdict(True, f"{len(run.labels)} int64 labels for {len(run.labels)} held-out images")
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
                f"{task.description}; threshold {100 * task.threshold:.1f}%; trained in {run.train_s:.1f} s "
                f"of {run.budget_s:.0f} s")
        if accuracy < task.threshold:
            worst_text = ", ".join(f"{c}: {100 * a:.0f}%" for c, a in worst)
            predicted = torch.bincount(run.labels, minlength=task.num_classes)
            top = int(predicted.argmax())
            spread = (f"; {int(predicted[top])} of {len(run.labels)} predictions are class {top}"
                      if predicted[top] > 0.5 * len(run.labels) else "")
            return Verdict(False, f"{text}. Worst classes {worst_text}{spread}", details=details, **figures)
        return Verdict(True, text, details=details, **figures)
    return check
