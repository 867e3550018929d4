"""Pure statistics of the timing engine: plain numbers in, plain numbers and decisions out.

Nothing here touches a worker, a tensor or a clock, so every rule that decides a speed verdict
(medians, spread, stability, contention, CPU time against the parent's clock, the trust placed
in a worker's own event times, the verification tolerance by math mode, pass/fail by direction)
is unit-tested on plain numbers.

One unit for every speed figure: a **time ratio**, the learner's time over the baseline's time
for the same work ("x baseline time"), where **lower is better**. A memory figure is the
learner's peak over the baseline's ("x baseline peak memory"), lower is better too. Bandwidths
(GB/s, % of peak) are details, higher is better, and say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LOWER, HIGHER = "lower", "higher"  # which way is better: CheckResult.direction
TIME_RATIO = "x baseline time"  # learner time / baseline time
MEMORY_RATIO = "x baseline peak memory"  # learner peak / baseline peak


# -- order statistics ---------------------------------------------------------------------------
def quantile(values, q: float) -> float:
    """Linear-interpolated quantile of a non-empty sequence (numpy's default method).

    Raises ValueError for an empty sequence."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("quantile of no values")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values) -> float:
    return quantile(values, 0.5)


def relative_iqr(values) -> float:
    """Spread of a sample: interquartile range over median (0 for one value)."""
    mid = median(values)
    return (quantile(values, 0.75) - quantile(values, 0.25)) / mid if mid else float("inf")


def is_stable(values, rel_tol: float = 0.02, min_count: int = 8) -> bool:
    """True when dropping the last quarter of the samples moves the median by at most rel_tol."""
    if len(values) < min_count:
        return False
    keep = len(values) - max(2, len(values) // 4)
    mid = median(values)
    return abs(median(values[:keep]) - mid) <= rel_tol * mid


def summarise(ratios: dict) -> tuple[float, float]:
    """(median over cases of each case's median ratio, median over cases of each case's spread)."""
    return (median([median(v) for v in ratios.values()]),
            median([relative_iqr(v) for v in ratios.values()]))


def geometric_mean(values) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def passes(value: float, threshold: float, direction: str = LOWER) -> bool:
    """The one pass rule: ``value <= threshold`` when lower is better, ``>=`` when higher is."""
    if direction not in (LOWER, HIGHER):
        raise ValueError(f"direction must be {LOWER!r} or {HIGHER!r}, got {direction!r}")
    if not math.isfinite(value):
        return False
    return value <= threshold if direction == LOWER else value >= threshold


# -- contention ---------------------------------------------------------------------------------
MAX_DISTURBED = 20  # disturbed baseline calls (CUDA) before the check gives up
# CUDA: the baseline runs the same kernels on fresh inputs of one shape, so its event time is
# nearly constant (cuDNN, no data-dependent work); a call this much slower than the median of its
# earlier calls shared the GPU with something else (another process, a clock drop).
GPU_DISTURBED_FACTOR, GPU_MIN_HISTORY = 1.5, 3


def gpu_disturbed(event_s: float, history: list) -> bool:
    """True when the trusted baseline's CUDA-event time is far above the median of its earlier
    calls on this shape (``history``, seconds): the GPU was shared or slowed while it was timed."""
    if len(history) < GPU_MIN_HISTORY:
        return False
    return event_s > GPU_DISTURBED_FACTOR * median(history)


# -- how far a worker's own CUDA-event times are believed ---------------------------------------
# The parent's wall clock around a timed request covers the worker's event-timed window plus an
# overhead (pipe round trip, guard entry, L2 flush, re-warm, input generation, synchronise). The
# trusted baseline does the same steps, so its overhead (wall - event) is the yardstick. A learner
# whose overhead is beyond the baseline's by more than the baseline's own jitter spent time the
# events did not show (work on a side stream after the end event, patched events).
OVERHEAD_SLACK_S = 0.002


@dataclass
class TrustedTimes:
    times: list  # seconds per call, what the verdict uses
    source: str  # "events" or "parent clock"
    learner_overhead_s: float
    allowed_overhead_s: float


def trusted_gpu_times(learner_event: list, learner_wall: list, base_event: list, base_wall: list,
                      slack_s: float = OVERHEAD_SLACK_S) -> TrustedTimes:
    """The learner's CUDA times, checked against the parent's clock (issue 11 items 5 and 6).

    All lists are seconds per timed call, paired by index. Medians, not per-call maxima: taking
    ``max(event, wall - overhead)`` call by call adds the round trip's jitter to the learner only
    (the maximum of a noisy bound is biased up). The learner's event times are used when its median
    overhead is within the baseline's median overhead plus the spread (q90 - q10) of the baseline's
    overheads plus ``slack_s``; otherwise its times are its wall times minus the baseline's median
    overhead, and ``source`` says so.
    """
    if not (len(learner_event) == len(learner_wall) and len(base_event) == len(base_wall)) \
            or not learner_event or not base_event:
        raise ValueError("paired, non-empty lists of event and wall times are needed")
    base_over = [w - e for w, e in zip(base_wall, base_event)]
    learner_over = median([w - e for w, e in zip(learner_wall, learner_event)])
    allowed = median(base_over) + (quantile(base_over, 0.9) - quantile(base_over, 0.1)) + slack_s
    if learner_over <= allowed and all(e > 0 for e in learner_event):
        return TrustedTimes(list(learner_event), "events", learner_over, allowed)
    floor = median(base_over)
    return TrustedTimes([max(w - floor, 1e-9) for w in learner_wall], "parent clock", learner_over, allowed)


# -- CPU: the CPU time the kernel charged, bounded by the parent's clock ---------------------------
# Each side's time is the CPU time the kernel charged to its worker over the timed request (read by
# the parent from /proc: ``cputime``), so a call descheduled by other processes costs nothing and
# the verdict does not depend on the load. Where the learner's wall time is far above what its CPU
# time explains (its median wall / CPU far above the baseline's, which ran under the same load),
# it waited for work done off its CPU (a helper process, which the guard and sandbox forbid): its
# time is then its wall time scaled by the baseline's CPU share (``source`` "parent clock").
OFF_CPU_FACTOR, OFF_CPU_SLACK_S = 2.0, 0.002


def trusted_cpu_times(learner_cpu: list, learner_wall: list, base_cpu: list, base_wall: list,
                      factor: float = OFF_CPU_FACTOR, slack_s: float = OFF_CPU_SLACK_S) -> TrustedTimes:
    """The learner's CPU times, bounded by the parent's clock. All lists: seconds per timed call,
    paired by index. The CPU times are used when the learner's median wall time is at most
    ``factor`` times its median CPU time times the baseline's median wall/CPU (the load's
    stretch, the same for both sides) plus ``slack_s``; otherwise each learner time is its wall
    time times the baseline's median CPU/wall share. ``learner_overhead_s``: the learner's median
    wall time; ``allowed_overhead_s``: the bound it was held to. Raises ValueError on unpaired or
    empty lists."""
    if not (len(learner_cpu) == len(learner_wall) and len(base_cpu) == len(base_wall)) \
            or not learner_cpu or not base_cpu:
        raise ValueError("paired, non-empty lists of CPU and wall times are needed")
    stretch = median([w / max(c, 1e-9) for w, c in zip(base_wall, base_cpu)])
    wall = median(learner_wall)
    allowed = factor * median(learner_cpu) * max(stretch, 1.0) + slack_s
    if wall <= allowed:
        return TrustedTimes([max(c, 1e-9) for c in learner_cpu], "CPU time", wall, allowed)
    return TrustedTimes([max(w / stretch, 1e-9) for w in learner_wall], "parent clock", wall, allowed)


def beyond_roofline(seconds: float, nbytes: float, peak_bytes_per_s: float | None,
                    margin: float = 0.9) -> bool:
    """True when moving ``nbytes`` in ``seconds`` would exceed ``margin`` of the card's peak DRAM
    bandwidth: no kernel does that, so the time was faked or the work skipped."""
    return bool(peak_bytes_per_s) and seconds < nbytes / peak_bytes_per_s * margin


# -- verification of timed outputs, by the baseline's math mode ---------------------------------
@dataclass(frozen=True)
class VerifyTolerance:
    rtol: float  # elementwise, relative to |ref|
    atol: float  # elementwise, relative to max|ref|
    l2: float  # ||got - ref|| / ||ref||


# Timed outputs are checked for being the answer to *this* input (a stale or patched output is
# off by O(1) everywhere), not for precision (the correctness checks do that), against a float64
# reference. The tolerance follows the math the baseline is allowed, because a correct learner may
# use it too: TF32 (cuDNN's default for fp32 convolutions on Ampere and later) rounds both
# operands to 10 mantissa bits, unit roundoff 2**-11 = 4.9e-4; a TF32 conv's relative L2 error
# against float64 is a few 1e-4 (issue 11: 3e-4 to 8e-4 against an fp32 GEMM), so 1e-4 would fail
# the reference. 4e-3 is 8 unit roundoffs: it admits TF32 and any summation order; a stale output
# has a relative L2 error near sqrt(2).
VERIFY_TOLERANCES = {
    "fp32": VerifyTolerance(rtol=1e-3, atol=1e-4, l2=1e-4),
    "tf32": VerifyTolerance(rtol=5e-2, atol=1e-2, l2=4e-3),
    "fp16": VerifyTolerance(rtol=1e-2, atol=2e-3, l2=2e-3),
    "bf16": VerifyTolerance(rtol=3e-2, atol=1e-2, l2=1e-2),
}


def math_mode(device: str, dtype_name: str, cudnn_tf32: bool = True, matmul_tf32: bool = False) -> str:
    """The loosest math a correct fp32 answer may use on ``device``: "tf32" on CUDA when either of
    PyTorch's TF32 switches is on (cuDNN's is on by default), else the dtype's own ("fp32", "fp16",
    "bf16")."""
    short = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(dtype_name, dtype_name)
    if short == "fp32" and device.startswith("cuda") and (cudnn_tf32 or matmul_tf32):
        return "tf32"
    return short
