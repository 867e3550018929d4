"""p08: the reference trains to the threshold within its budget; budget overruns are caught with
a small time scale; labels are validated in the parent."""

from __future__ import annotations

import pytest
import torch

from conftest import ROOT, failing
from grader.checks import training
from grader.checks.verdict import Fail



def test_budget_overrun_is_stopped_from_outside(grade_file):
    """The over-budget submission is cut at its budget plus grace, not left to run its course."""
    path = ROOT / "tests" / "submissions" / "p08" / "wrong_ignores_budget.py"
    result = grade_file("p08", path, time_scale=0.1)
    trains = next(c for c in result.checks if c.name == "trains within the time budget")
    assert trains.status == "failed"
    assert trains.measured is not None and trains.measured < 12  # stopped at 6 s + grace, not 18 s


@pytest.mark.slow
def test_reference_reaches_the_threshold_within_budget(grade_file):
    result = grade_file("p08", ROOT / "solutions" / "p08_mnist_cnn.py")
    summary = "\n".join(f"{c.status} {c.name}: {c.message}" for c in result.checks)
    assert result.status == "passed", summary
    accuracy = next(c for c in result.checks if c.name == "held-out accuracy")
    assert accuracy.unit == "%" and accuracy.measured >= 95.0 and accuracy.threshold == 95.0
    assert accuracy.details["data"] == "subset" and accuracy.details["test_size"] == 1000
    assert accuracy.details["training_s"] < accuracy.details["budget_s"]
    print(f"p08 reference: {accuracy.measured}% in {accuracy.details['training_s']} s")


def test_labels_are_validated_exactly():
    good = torch.tensor([0, 9, 3])
    assert training.validate_labels(good, 3, 10) is good
    for bad, text in [(good.float(), "torch.int64"), (good.int(), "torch.int64"), (good[:2], "(3,)"),
                      (good[None], "(3,)"), (torch.tensor([0, 10, 3]), "index 1"), ([0, 9, 3], "Tensor")]:
        with pytest.raises(Fail, match=text.replace("(", r"\(").replace(")", r"\)")):
            training.validate_labels(bad, 3, 10)
