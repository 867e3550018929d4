"""The speed harness: its statistics, its verification of timed calls, and its verdicts.

No test asserts an absolute time: only ratios far from their thresholds (a per-pixel loop, the
reference) and what a message must contain. Grading runs only the speed check of a problem, so
the whole file costs well under a minute on a busy 2-core machine.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from conftest import ROOT, TEST_SEED
from grader import grading, registry
from grader.checks import speed
from grader.checks.verdict import Fail

P07 = ROOT / "tests" / "submissions" / "p07"


# -- pure statistics --------------------------------------------------------------------------
def test_quantile_interpolates_like_numpy():
    assert speed.quantile([4, 1, 3, 2], 0.5) == 2.5
    assert speed.quantile([1, 2, 3, 4, 5], 0.25) == 2
    assert speed.quantile([10], 0.9) == 10
    assert speed.median([3, 1, 2]) == 2
    with pytest.raises(ValueError):
        speed.quantile([], 0.5)


def test_relative_iqr():
    assert speed.relative_iqr([1.0, 1.0, 1.0]) == 0
    assert speed.relative_iqr([1, 2, 3, 4, 5]) == pytest.approx(2 / 3)


def test_is_stable_needs_enough_samples_and_a_steady_median():
    assert not speed.is_stable([1.0] * 7)
    assert speed.is_stable([1.0] * 8)
    assert speed.is_stable([1.0, 1.01, 0.99, 1.0, 1.0, 1.01, 0.99, 1.0])
    assert not speed.is_stable([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])  # drifted
    assert speed.is_stable([1.0] * 6 + [2.0, 2.0], rel_tol=0.0)  # the median held


def test_summarise_is_the_median_over_cases():
    ratio, spread = speed.summarise({"a": [1.0, 1.0, 1.0], "b": [2.0, 3.0, 4.0], "c": [9.0] * 3})
    assert ratio == 3.0
    assert spread == 0.0


def test_trusted_cuda_time_never_below_the_parents_clock():
    assert speed.trusted_cuda_time(0.010, 0.012, 0.003) == 0.010  # honest events
    assert speed.trusted_cuda_time(0.0001, 0.012, 0.003) == pytest.approx(0.009)  # events lied


def test_close_accepts_reordered_sums_and_rejects_a_stale_output():
    gen = torch.Generator().manual_seed(0)
    expected = torch.randn(2, 8, 10, 10, generator=gen)
    assert speed._close(expected * (1 + 1e-6), expected)
    stale = expected.clone()
    stale[1, 3, 4, 5] += 5.0  # one output changed by the perturbation, not reproduced
    assert not speed._close(stale, expected)
    with pytest.raises(Fail, match="one input element was changed"):
        speed._verify(stale, expected, {}, [], "case")
    assert not speed._close(expected.double(), expected)


def test_verify_catches_an_output_that_changed_after_the_call():
    out = torch.arange(100.0)
    picks = [0.05, 0.5, 0.93]
    sample = out[[5, 50, 93]]
    speed._verify(out, out, {"sample": sample}, picks, "case")
    with pytest.raises(Fail, match="differ from the output"):
        speed._verify(out, out, {"sample": sample + 1}, picks, "case")


def test_verdict_reports_every_figure():
    m = speed.Measurement(ratios={"3x3": [1.2, 1.3, 1.25], "1x1": [0.8, 0.9, 0.85]}, samples=3,
                          device="cpu", threads=1, baseline_ms={"3x3": [5.0], "1x1": [2.0]})
    m.ratio, m.spread = speed.summarise(m.ratios)
    verdict = speed.speed_verdict(m, threshold=10.0, baseline_name="F.conv2d")
    assert verdict.passed and verdict.unit == "x baseline" and verdict.threshold == 10.0
    assert verdict.measured == pytest.approx(1.05)
    for text in ("1.05x F.conv2d", "spread IQR/median", "6 paired samples", "cpu, 1 thread",
                 "allowed at most 10x", "3x3 1.25x"):
        assert text in verdict.message
    assert not speed.speed_verdict(m, threshold=1.0, baseline_name="F.conv2d").passed


# -- the harness against real workers ---------------------------------------------------------
def _grade_speed_only(server, tmp_path, problem_id: str, source, **options):
    """Grade only the CPU speed check of a problem (the corpus covers the rest)."""
    spec = registry.find(problem_id)
    checks = tuple(c for c in spec.checks if c.kind == "speed" and not c.needs_cuda)
    spec = dataclasses.replace(spec, checks=checks)
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    target = workspace / spec.filename
    target.write_text(source.read_text() if isinstance(source, Path) else source)
    opts = grading.Options(seed=TEST_SEED, speed=options.pop("speed", True), **options)
    result = grading.grade_problem(spec, workspace, opts, server)
    assert len(result.checks) == 1, result
    return result.checks[0]


def test_reference_p07_passes_with_its_figures(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", ROOT / "solutions" / "p07_fast_conv.py")
    assert check.status == "passed", check.message
    assert check.unit == "x baseline" and check.threshold == 10.0
    assert 0 < check.measured < check.threshold
    assert "cpu, 1 thread" in check.message and "paired samples" in check.message
    assert check.details["samples"] >= 8 * 4


def test_per_pixel_loop_fails_the_threshold_quickly(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", P07 / "wrong_per_pixel_loop.py")
    assert check.status == "failed", check.message
    assert check.measured > check.threshold
    assert "stopped there" in check.message and "F.conv2d" in check.message


@pytest.mark.parametrize("name", ["wrong_cached_by_id.py", "wrong_cached_by_value.py"])
def test_replayed_outputs_fail_verification(server, tmp_path, name):
    check = _grade_speed_only(server, tmp_path, "p07", P07 / name)
    assert check.status == "failed"
    assert "the output of a timed call" in check.message
    assert "one input element was changed" in check.message


PATCHED_PROBE = (ROOT / "solutions" / "p07_fast_conv.py").read_text() + '''

# Attack the protocol itself: make the timed probe return at once and do the work in the
# untimed fetch.
import grader.checks.speed as _speed

_real_go, _real_fetch = _speed.speed_go, _speed.speed_fetch


def _fast_go(env, key, index, value, picks):
    env.state[key]["inputs"]["x"].view(-1)[index] = value
    return {"sample": None, "event_s": None}


def _slow_fetch(env, key, which="out"):
    slot = env.state[key]
    slot["out"] = slot["call"]()
    return slot["out"]


_speed.speed_go, _speed.speed_fetch = _fast_go, _slow_fetch
'''


def test_work_moved_into_the_untimed_fetch_is_caught(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", PATCHED_PROBE)
    assert check.status == "failed", check.message
    assert "after the timed call" in check.message


def test_no_speed_skips_and_gpu_checks_skip_on_cpu(server, tmp_path):
    source = ROOT / "solutions" / "p07_fast_conv.py"
    check = _grade_speed_only(server, tmp_path, "p07", source, speed=False)
    assert check.status == "skipped" and "--no-speed" in check.message
    gpu = [c for c in registry.find("p07").checks + registry.find("p05").checks if c.needs_cuda]
    assert len(gpu) == 2 and all(c.kind == "speed" for c in gpu)
    reason = grading._skip_reason(gpu[0], grading.Options(device="cpu"))
    assert "CUDA" in reason
