"""Shrinking a failing case to the smallest one that still fails (after hypothesis).

A random 2x4x9x7 case with stride (2, 3) and groups 2 is hard to debug by hand; the same bug on
a 1x1x3x3 input with a 2x2 kernel of small integers is not. ``shrink`` greedily applies
simplifications proposed by ``simpler(case)`` and keeps each one under which the learner's code
still fails, within a budget of calls, so the learner sees a case they can work on paper.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable


def shrink(case, simpler: Callable[[object], Iterable[object]], still_fails: Callable[[object], bool],
           max_calls: int = 60, max_seconds: float = 10.0):
    """The smallest failing case reachable from ``case`` (which must fail) by ``simpler`` steps."""
    calls, stop_at = 0, time.monotonic() + max_seconds
    improved = True
    while improved:
        improved = False
        for candidate in simpler(case):
            if calls >= max_calls or time.monotonic() > stop_at:
                return case
            calls += 1
            if still_fails(candidate):
                case, improved = candidate, True
                break  # restart from the simpler case: its own simplifications come first
    return case
