"""p09: the reference beats the threshold on fresh procedural images within its budget (budget
overruns: tests/submissions/p09/wrong_ignores_budget.py)."""

from __future__ import annotations

import pytest

from conftest import ROOT



@pytest.mark.slow
def test_reference_reaches_the_threshold_within_budget(grade_file):
    result = grade_file("p09", ROOT / "solutions" / "p09_image_classifier.py")
    summary = "\n".join(f"{c.status} {c.name}: {c.message}" for c in result.checks)
    assert result.status == "passed", summary
    accuracy = next(c for c in result.checks if c.name == "held-out accuracy")
    assert accuracy.details["data"] == "procedural" and accuracy.details["train_size"] == 5000
    print(f"p09 reference: {accuracy.measured}% in {accuracy.details['training_s']} s")
