"""The smallest failing case: shrinking finds a case small enough to work by hand."""

from __future__ import annotations

import re

from conftest import ROOT
from grader.checks.shrink import shrink


def test_shrink_finds_the_smallest_failing_integer():
    # "fails" for every n >= 7; steps halve or decrement
    result = shrink(100, lambda n: [n // 2, n - 1], lambda n: n >= 7)
    assert result == 7


def test_shrink_respects_its_call_budget():
    calls = []

    def fails(n):
        calls.append(n)
        return True

    shrink(10**6, lambda n: [n - 1], fails, max_calls=5)
    assert len(calls) == 5


def test_a_groups_bug_shrinks_to_a_hand_sized_case(grade_file):
    result = grade_file("p01", ROOT / "tests" / "submissions" / "p01" / "wrong_ignores_groups.py")
    check = next(c for c in result.checks if c.name == "dilation and groups")
    assert check.status == "failed"
    small = check.message.split("Smallest failing case found", 1)[1]
    assert "groups=2" in small and "stride=1" in small and "padding=0" in small and "dilation=1" in small
    x = re.search(r"x = (.*)", small).group(1)
    # one sample, two channels of one pixel each, small integers
    assert x.count("[") <= 6 and all(abs(float(v)) <= 2 for v in re.findall(r"-?\d+\.\d+", x))
