"""p08: one CPU-time budget for import, build_model, train_model and predict, enforced from the
parent; the reference reaches the threshold within it; labels are validated in the parent."""

from __future__ import annotations

import pytest
import torch

from conftest import ROOT
from grader.checks import training
from grader.checks.verdict import Fail
from grader.problems import p08_mnist_cnn as p08

CORPUS = ROOT / "tests" / "submissions" / "p08"


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def test_budget_overrun_is_stopped_from_outside(grade_file):
    """A train_model that computes three times its budget is stopped by the parent, from the
    worker's CPU time, before it could finish (or, on a machine too busy to give it that CPU
    time, by the wall-clock outer stop)."""
    result = grade_file("p08", CORPUS / "wrong_ignores_budget.py", time_scale=0.1)
    trains = _check(result, "trains within the time budget")
    assert trains.status == "failed" and "train_model() was still running" in trains.message
    if "of CPU time, past" in trains.message:  # stopped by the CPU budget: 1.2 s in all, not 3x
        budget = training.Budget.for_task(p08.make_task(None, 1), 0.1)
        assert trains.measured < budget.train_limit_s + 0.6 < 3 * budget.train_allowance(0.0)
    else:
        assert "of wall-clock time" in trains.message


def test_training_in_predict_spends_the_same_budget(grade_file):
    """Red-team route 9: train_model returns at once, predict() trains; the one budget stops it."""
    result = grade_file("p08", CORPUS / "wrong_trains_in_predict.py", time_scale=0.25)
    assert _check(result, "trains within the time budget").status == "passed"
    predict = _check(result, "predict returns int64 labels")
    assert predict.status == "failed" and "predict() was still running" in predict.message
    assert _check(result, "held-out accuracy").status == "failed"


def test_held_out_digits_are_drawn_afresh_each_run():
    """The subset's split draws on a secret of the run, so the held-out digits cannot be worked
    out from the seed (the default seed is public)."""
    first, second = p08.make_task(None, 1234), p08.make_task(None, 1234)
    assert first.data == "subset" and len(first.test_labels) == 1000
    assert not torch.equal(first.test_images, second.test_images)


@pytest.mark.slow
def test_reference_reaches_the_threshold_within_budget(grade_file):
    result = grade_file("p08", ROOT / "solutions" / "p08_mnist_cnn.py")
    summary = "\n".join(f"{c.status} {c.name}: {c.message}" for c in result.checks)
    assert result.status == "passed", summary
    accuracy = _check(result, "held-out accuracy")
    assert accuracy.unit == "%" and accuracy.measured >= 93.0 and accuracy.threshold == 93.0
    details = _check(result, "trains within the time budget").details
    assert details["data"] == "subset" and details["test_size"] == 1000 and details["clock"] == "cpu"
    # the reference uses its whole allowance of CPU time, and no more
    assert 0.8 * details["budget_s"] < details["cpu_train_s"] < details["budget_s"]
    print(f"p08 reference: {accuracy.measured}% with {details['cpu_train_s']} s of CPU time")


def test_labels_are_validated_exactly():
    good = torch.tensor([0, 9, 3])
    assert training.validate_labels(good, 3, 10) is good
    for bad, text in [(good.float(), "torch.int64"), (good.int(), "torch.int64"), (good[:2], "(3,)"),
                      (good[None], "(3,)"), (torch.tensor([0, 10, 3]), "index 1"), ([0, 9, 3], "Tensor")]:
        with pytest.raises(Fail, match=text.replace("(", r"\(").replace(")", r"\)")):
            training.validate_labels(bad, 3, 10)
