"""p09: the reference beats the threshold on fresh procedural images within its budget; budget
overruns are caught with a small time scale."""

from __future__ import annotations

import pytest

from conftest import ROOT
from test_p08_training import grade_scaled, scaled_corpus



@pytest.mark.parametrize("path", scaled_corpus("p09"), ids=lambda p: p.stem)
def test_scaled_submission_gets_its_verdict(path, grade_file):
    grade_scaled(grade_file, path)


@pytest.mark.slow
def test_reference_reaches_the_threshold_within_budget(grade_file):
    result = grade_file("p09", ROOT / "solutions" / "p09_image_classifier.py")
    summary = "\n".join(f"{c.status} {c.name}: {c.message}" for c in result.checks)
    assert result.status == "passed", summary
    accuracy = next(c for c in result.checks if c.name == "held-out accuracy")
    assert accuracy.details["data"] == "procedural" and accuracy.details["train_size"] == 5000
    print(f"p09 reference: {accuracy.measured}% in {accuracy.details['training_s']} s")


def test_stub_is_not_started(grade_file):
    result = grade_file("p09", ROOT / "problems" / "p09_image_classifier.py")
    assert result.status == "not_started", [(c.name, c.status, c.message) for c in result.checks]
