"""p08: the reference trains to the threshold within its budget; budget overruns are caught with
a small time scale; labels are validated in the parent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import ROOT, failing
from grader.checks import training
from grader.checks.verdict import Fail
from test_corpus import parse_header



def scaled_corpus(problem: str) -> list[Path]:
    return sorted((ROOT / "tests" / "submissions" / problem / "scaled").glob("*.py"))


def grade_scaled(grade_file, path: Path):
    """Grade a submission under tests/submissions/<pid>/scaled/ with its header's time scale."""
    header = parse_header(path)
    scale = float(header["options"].split("time_scale=")[1].split()[0])
    result = grade_file(path.parent.parent.name, path, time_scale=scale)
    summary = "\n".join(f"{c.status} {c.name}: {c.message[:300]}" for c in result.checks)
    assert result.status == header["expected"], summary
    bad = failing(result)
    for name in filter(None, (n.strip() for n in header.get("failing", "").split(";"))):
        assert name in bad, f"check {name!r} should have failed:\n{summary}"
    if "message" in header:
        assert any(header["message"] in c.message for c in bad.values()), summary
    return result


@pytest.mark.parametrize("path", scaled_corpus("p08"), ids=lambda p: p.stem)
def test_scaled_submission_gets_its_verdict(path, grade_file):
    result = grade_scaled(grade_file, path)
    trains = next(c for c in result.checks if c.name == "trains within the time budget")
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


def test_stub_is_not_started(grade_file):
    result = grade_file("p08", ROOT / "problems" / "p08_mnist_cnn.py")
    assert result.status == "not_started", [(c.name, c.status, c.message) for c in result.checks]
