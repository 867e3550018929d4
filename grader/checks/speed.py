"""Moved: the timing engine is ``grader.checks.timing`` (stats, measure) with its worker side in
``grader.probes.timing``. This name re-exports the engine's public API for code not yet updated."""

from grader.checks.timing import SpeedCase, speed_check, speed_verdict  # noqa: F401
from grader.checks.timing.measure import measure  # noqa: F401
