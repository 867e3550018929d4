"""The timing engine: every speed check of the grader (p05, p06, p07, p15) runs through it.

Split along the trust boundary:

- ``stats``: pure statistics and decisions on plain numbers (unit-tested without workers);
- ``measure``: the parent-side measurement (trusted: the parent's clock, the baseline worker);
- ``grader.probes.timing``: the worker-side protocol (untrusted in the learner's worker).

Every speed figure is a time ratio, the learner's time over the baseline's ("x baseline time"),
lower is better; memory figures are peak ratios, lower is better.
"""

# ``measure`` (the function) is not re-exported: the name is the submodule's.
from grader.checks.timing.measure import (  # noqa: F401
    Measurement, SpeedCase, gpu_lock, memory_verdict, speed_check, speed_verdict)
from grader.checks.timing.stats import HIGHER, LOWER, MEMORY_RATIO, TIME_RATIO  # noqa: F401
