"""p09: the reference beats the threshold on fresh procedural images within its CPU budget;
training at import spends the same budget; the held-out images cannot be regenerated (budget
overruns: tests/submissions/p09/wrong_ignores_budget.py)."""

from __future__ import annotations

import pytest
import torch

from conftest import ROOT
from grader.problems import p09_image_classifier as p09


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def test_training_at_import_spends_the_same_budget(grade_file):
    """Red-team route 10: the model is trained at import and fit() ignores its data; the import's
    CPU time counts, so nothing is left for fit and the check names the import."""
    result = grade_file("p09", ROOT / "tests" / "submissions" / "p09" / "wrong_trains_at_import.py", time_scale=0.3)
    trains = _check(result, "trains within the time budget")
    assert trains.status == "failed", trains.message
    assert "importing your file and build_model() used" in trains.message and "not at import" in trains.message
    assert trains.measured > trains.threshold
    assert _check(result, "held-out accuracy").status == "failed"


def test_held_out_images_cannot_be_regenerated_from_the_seed():
    first, second = p09.make_task(None, 1234), p09.make_task(None, 1234)
    assert torch.equal(first.train_images, second.train_images)  # training data: from the seed
    assert not torch.equal(first.test_images, second.test_images)  # held out: seed and a secret


@pytest.mark.slow
def test_reference_reaches_the_threshold_within_budget(grade_file):
    result = grade_file("p09", ROOT / "solutions" / "p09_image_classifier.py")
    summary = "\n".join(f"{c.status} {c.name}: {c.message}" for c in result.checks)
    assert result.status == "passed", summary
    accuracy = _check(result, "held-out accuracy")
    details = _check(result, "trains within the time budget").details
    assert details["data"] == "procedural" and details["train_size"] == 5000
    assert 0.8 * details["budget_s"] < details["cpu_train_s"] < details["budget_s"]
    print(f"p09 reference: {accuracy.measured}% with {details['cpu_train_s']} s of CPU time")
