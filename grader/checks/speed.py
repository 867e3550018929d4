"""Speed checks: the parent's clock times the learner against a trusted baseline, interleaved.

The learner's worker is not trusted to report its own time (INTEGRITY.md, point 6), so timing is
a two-phase protocol of worker-side probes, timed from here, the parent:

1. ``speed_prepare``: each worker builds its inputs from a seed the parent sends (nothing big
   crosses the pipe) and keeps them, with the callable to time, in ``env.state``.
2. ``speed_go`` (timed): the parent reads ``time.perf_counter()`` before sending and after the
   tiny reply arrives. The request carries a fresh random single-element perturbation
   ``(index, value)``, written in O(1) into the prepared input just before the call, so a result
   precomputed or cached (by ``id()`` or by value) is wrong. The reply holds a few output values
   at positions drawn by the parent, read inside the timed window.
3. ``speed_fetch`` (untimed): returns the whole output. The parent checks it against the trusted
   baseline worker's output for the same perturbed input (or against a grader reference), and the
   sampled values against it. Fetches are timed too: a learner whose fetch hides the work (a
   patched probe that returns garbage fast and computes later) is caught by that cross-check.

The baseline runs the identical protocol in ``ctx.baseline_worker()`` (never loads learner code),
call by call interleaved with the learner's, after warm-up, until the median ratio is stable or a
time cap is hit. The reported figure is the median over cases of each case's median paired ratio
learner/baseline; its spread is the IQR/median of the paired ratios.

What it does not stop: a submission that diffs its input against a stored copy and patches a
cached output would beat a single-element perturbation. That is deliberate work against the
grader (not an accident or a shortcut) and is out of scope here.

CUDA (untested here: no GPU on the development machines). Each ``speed_go`` flushes L2 by
writing a buffer larger than the cache, then times the call with CUDA events and a synchronise
*inside the worker*, with the TF32 flags fixed to PyTorch's defaults before every call. Event
times are in-worker, hence untrusted for the learner: the parent cross-checks them against its
own wall clock (``trusted_cuda_time``): a learner's time is never below its wall time minus the
baseline's per-call overhead.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

import torch

from grader.checks.compare import Tolerance, compare
from grader.checks.verdict import Fail, Verdict
from grader.runner.guard import NO_BANS

PROBE = "grader.checks.speed"
UNIT = "x baseline"
# Outputs of timed calls are checked for being the right answer, not for precision (the
# correctness checks do that); FFT or a different summation order must pass.
VERIFY_TOLERANCE = Tolerance(rtol=1e-3, atol=1e-4, l2=1e-4)
SAMPLE_PICKS = 8  # output values returned inside the timed window
L2_FLUSH_BYTES = 256 * 1024 * 1024  # larger than any current GPU's L2 (H100: 50 MB)


# -- pure statistics (unit-tested) -------------------------------------------------------------
def quantile(values, q: float) -> float:
    """Linear-interpolated quantile of a non-empty sequence (like numpy's default)."""
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


def trusted_cuda_time(event_s: float, wall_s: float, baseline_overhead_s: float) -> float:
    """A learner's CUDA time: its in-worker event time, but never less than what the parent's
    wall clock allows (wall time minus the baseline's per-call overhead: flush, pipe, launch)."""
    return max(event_s, wall_s - baseline_overhead_s)


# -- what to time, as plain data ---------------------------------------------------------------
@dataclass(frozen=True)
class SpeedCase:
    """One shape to time. Targets are dicts so they cross the pipe as plain data:

    ``{"kind": "entry", "name": "conv2d_fast", "args": ("x", "weight", "bias"), "kwargs": {...}}``
    (a learner function); ``"module"`` (a learner nn.Module class built with ``init``, called on
    ``x``); ``"torch"`` (``torch.nn.functional.<name>``); ``"torch_module"`` (``torch.nn.<name>``);
    ``"grader"`` (a trusted ``"module:function"`` called as ``f(x, state_dict, **kwargs)``, for
    references only). ``inputs`` maps names to shapes; ``x`` is the one perturbed.
    ``reference``: run untimed by the baseline worker to verify the learner's output (default: the
    baseline's own output); ``"state_dict": "learner"`` there means the learner module's weights.
    """

    label: str
    inputs: dict
    learner: dict
    baseline: dict
    reference: dict | None = None


@dataclass
class Measurement:
    ratios: dict = field(default_factory=dict)  # case label -> paired ratios learner/baseline
    ratio: float = float("nan")
    spread: float = float("nan")
    samples: int = 0
    device: str = "cpu"
    threads: int = 0
    baseline_ms: dict = field(default_factory=dict)  # case label -> median baseline time
    note: str = ""


# -- worker side (runs in both workers; in the learner's it is as untrusted as the rest) --------
def _random_inputs(spec: dict, seed: int, device: str) -> dict:
    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, shape in spec.items():
        t = torch.randn(tuple(shape), generator=gen)
        if name != "x" and len(shape) > 1:  # weights: keep outputs O(1) whatever the fan-in
            fan_in = 1
            for s in shape[1:]:
                fan_in *= int(s)
            t = t / fan_in ** 0.5
        tensors[name] = t.to(device)
    return tensors


def _resolve(path: str):
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _build(env, target: dict, inputs: dict, seed: int, device: str):
    """A zero-argument callable for ``target``; learner code runs under ``env.learner()``."""
    import torch.nn as nn
    import torch.nn.functional as F

    kind, kwargs = target["kind"], dict(target.get("kwargs", {}))
    args = [inputs.get(a) for a in target.get("args", ("x",))]
    if kind == "entry":
        fn = env.entry(target["name"])

        def call():
            with env.learner():
                return fn(*args, **kwargs)
        return call, None
    if kind == "module":
        cls = env.entry(target["name"])
        torch.manual_seed(seed)
        with env.learner():
            module = cls(**target.get("init", {})).to(device).eval()
        state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()
                 if type(v) is torch.Tensor}

        def call():
            with env.learner():
                return module(inputs["x"])
        return call, state
    if kind == "torch":
        fn = getattr(F, target["name"])
        return (lambda: fn(*args, **kwargs)), None
    if kind == "torch_module":
        torch.manual_seed(seed)
        module = getattr(nn, target["name"])(**target.get("init", {})).to(device).eval()
        return (lambda: module(inputs["x"])), None
    if kind == "grader":
        fn = _resolve(target["name"])
        state = {k: v.to(device) for k, v in (target.get("state_dict") or {}).items()}
        return (lambda: fn(inputs["x"], state, **kwargs)), None
    raise ValueError(f"unknown speed target kind {kind!r}")


def _fix_tf32():
    # PyTorch's defaults, re-set before every timed call so neither side runs with others.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = True


def speed_prepare(env, key: str, target: dict, inputs: dict, seed: int, device: str,
                  reference: dict | None = None, threads: int = 0) -> dict:
    if threads:
        env.state.setdefault("speed_threads_before", torch.get_num_threads())
        torch.set_num_threads(threads)
    tensors = _random_inputs(inputs, seed, device)
    call, state = _build(env, target, tensors, seed, device)
    slot = {"call": call, "inputs": tensors, "out": None, "device": device}
    if reference is not None:
        slot["reference"] = _build(env, reference, tensors, seed, device)[0]
    if device == "cuda":
        _fix_tf32()
        slot["flush"] = torch.empty(L2_FLUSH_BYTES // 4, device="cuda")
    env.state[key] = slot
    info = {"threads": torch.get_num_threads(), "device": device}
    if device == "cuda":
        info["device_name"] = torch.cuda.get_device_name()
    if state is not None:
        info["state_dict"] = state
    return info


def speed_go(env, key: str, index: int, value: float, picks: list) -> dict:
    """The timed call: perturb one input element (O(1)), call, read a few output values."""
    slot = env.state[key]
    slot["inputs"]["x"].view(-1)[index] = value
    event_s = cpu_s = None
    with torch.no_grad():
        if slot["device"] == "cuda":
            _fix_tf32()
            slot["flush"].zero_()  # evict the inputs from L2 so no side starts warm
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            out = slot["call"]()
            end.record()
            torch.cuda.synchronize()
            event_s = start.elapsed_time(end) / 1000.0
        else:
            cpu_start = time.thread_time()
            out = slot["call"]()
            cpu_s = time.thread_time() - cpu_start
    slot["out"] = out
    sample = None
    if type(out) is torch.Tensor and out.numel():
        flat = out.reshape(-1)
        sample = flat[torch.tensor([int(p * flat.numel()) for p in picks], dtype=torch.long,
                                   device=flat.device)].cpu()
    # cpu_s: read by the parent from the trusted baseline only (one intra-op thread: the calling
    # thread does the work), to see whether something stopped or starved it while it was timed.
    return {"sample": sample, "event_s": event_s, "cpu_s": cpu_s}


def speed_finish(env) -> None:
    """Free the prepared inputs and give later checks the worker's thread count back."""
    for key in [k for k, v in env.state.items() if type(v) is dict and "call" in v]:
        del env.state[key]
    before = env.state.pop("speed_threads_before", None)
    if before:
        torch.set_num_threads(before)


def speed_fetch(env, key: str, which: str = "out"):
    slot = env.state[key]
    if which == "reference":
        with torch.no_grad():
            return slot["reference"]()
    return slot["out"]


# -- parent side -------------------------------------------------------------------------------
class _Side:
    """One worker's view of one case: prepare, timed go, untimed fetch.

    ``pause``: the learner's worker, frozen (SIGSTOP to its process group) while this side's
    timed call runs, so learner threads or children cannot slow the baseline down (or stop it)
    while it is timed."""

    def __init__(self, ctx, worker, key: str, learner: bool, what: str, pause=None):
        self.ctx, self.worker, self.key, self.learner, self.what = ctx, worker, key, learner, what
        self.pause = pause

    def probe(self, name: str, *args, timeout_s=None):
        if self.pause is not None:
            # Freeze the learner, then make sure the baseline runs (a learner may have stopped it).
            _signal_group(self.pause.pid, signal.SIGSTOP)
            _signal_group(self.worker.pid, signal.SIGCONT)
        try:
            # The learner's side keeps the problem's bans: a forbidden op in a timed call fails too.
            return self.ctx.probe(f"{PROBE}:{name}", *args, worker=self.worker, timeout_s=timeout_s,
                                  banned=None if self.learner else NO_BANS, what=self.what)
        finally:
            if self.pause is not None:
                _signal_group(self.pause.pid, signal.SIGCONT)

    def go(self, index: int, value: float, picks: list, timeout_s=None) -> tuple[float, dict]:
        start = time.perf_counter()
        reply = self.probe("speed_go", self.key, index, value, picks, timeout_s=timeout_s)
        return time.perf_counter() - start, reply

    def fetch(self, which: str = "out"):
        start = time.perf_counter()
        value = self.probe("speed_fetch", self.key, which)
        return value, time.perf_counter() - start


def _signal_group(pid: int, sig) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# A baseline call whose wall time exceeds its own CPU time by this much was stopped or starved
# while timed (by a learner's stray process, or the machine): the pair is timed again.
DISTURBED_FACTOR, DISTURBED_SLACK_S, MAX_DISTURBED = 3.0, 0.010, 20


def measure(ctx, cases, *, threshold: float, baseline_name: str, device: str = "cpu",
            threads: int = 1, time_cap_s: float = 8.0, min_rounds: int = 8, max_rounds: int = 60,
            warmup: int = 2, slow_factor: float = 5.0, min_budget_s: float = 1.0) -> Measurement:
    """Time every case, learner and baseline interleaved; raise Fail on a wrong or hopeless answer.

    A learner call that takes longer than ``slow_factor * threshold`` times the baseline's last
    time (at least ``min_budget_s``) is stopped and fails the check at once, so a per-pixel loop
    costs a second, not minutes.

    ``threads``: both workers run the timed calls with this many intra-op threads (0: as
    configured). One by default: on a loaded 2-core machine two OpenMP threads make F.conv2d
    swing by 5x from call to call (barriers wait on descheduled threads), one thread does not,
    and a ratio against the same library at the same thread count is about the algorithm.
    """
    if device == "cuda":
        threads = 0
    learner_worker, baseline_worker = ctx.learner_worker(), ctx.baseline_worker()
    gen = torch.Generator().manual_seed(ctx.case_seed(0))
    m = Measurement(device=device)
    sides, out_numel, overhead, fetch_rows, last_base = {}, {}, {}, {}, {}
    disturbed: list = []
    for i, case in enumerate(cases):
        seed = ctx.case_seed(i + 1)
        key = f"{ctx.spec.id}/{ctx.check_name}/{i}"
        lside = _Side(ctx, learner_worker, key, True, f"{_name(case.learner)} (speed check, {case.label})")
        bside = _Side(ctx, baseline_worker, key, False, f"the baseline {baseline_name}",
                      pause=learner_worker)
        linfo = lside.probe("speed_prepare", key, case.learner, case.inputs, seed, device, None,
                            threads)
        reference = case.reference
        if reference is not None and reference.get("state_dict") == "learner":
            state = linfo.get("state_dict") if type(linfo) is dict else None
            reference = dict(reference, state_dict=state if type(state) is dict else {})
        binfo = bside.probe("speed_prepare", key, case.baseline, case.inputs, seed, device, reference,
                            threads)
        m.threads = int(binfo.get("threads", 0))
        if device == "cuda":
            m.device = f"cuda ({binfo.get('device_name', '?')})"
        sides[case.label] = (lside, bside, case, _numel(case.inputs["x"]))
        m.ratios[case.label], m.baseline_ms[case.label] = [], []

    def learner_go(lside, case, index, value, picks):
        base_s = last_base[case.label]
        budget = max(min_budget_s, slow_factor * threshold * base_s)
        try:
            return lside.go(index, value, picks, timeout_s=budget)
        except Fail as failure:
            if "did not finish" not in failure.message:
                raise
        bound = budget / base_s
        raise Fail(f"{case.label}: one call took more than {budget:.1f} s where {baseline_name} took "
                   f"{base_s * 1e3:.2f} ms, so it is at least {bound:.0f}x {baseline_name} (allowed "
                   f"at most {threshold:g}x); stopped there ({_where(m)})",
                   measured=round(bound, 1), threshold=threshold, unit=UNIT)

    def one_pair(label: str, learner_first: bool, timed: bool):
        lside, bside, case, x_numel = sides[label]
        index = int(torch.randint(0, x_numel, (), generator=gen))
        sign = 1.0 if float(torch.rand((), generator=gen)) < 0.5 else -1.0
        value = sign * float(torch.empty(()).uniform_(4.0, 8.0, generator=gen))
        picks = torch.rand(SAMPLE_PICKS, generator=gen).tolist() if label in out_numel else []
        if label not in last_base:
            learner_first = False  # the learner's time budget follows from the baseline's time
        if learner_first:
            l_wall, l_reply = learner_go(lside, case, index, value, picks)
            b_wall, b_reply = bside.go(index, value, picks)
        else:
            b_wall, b_reply = bside.go(index, value, picks)
            last_base.setdefault(label, b_wall)
            l_wall, l_reply = learner_go(lside, case, index, value, picks)
        l_reply = l_reply if type(l_reply) is dict else {}
        got, l_fetch = lside.fetch()
        if case.reference is not None:
            expected, _ = bside.fetch("reference")
            _, b_fetch = bside.fetch()
        else:
            expected, b_fetch = bside.fetch()
        _verify(got, expected, l_reply, picks, label)
        out_numel[label] = expected.numel()
        cpu_s = b_reply.get("cpu_s") if type(b_reply) is dict else None
        if device != "cuda" and type(cpu_s) is float and b_wall > DISTURBED_FACTOR * cpu_s + DISTURBED_SLACK_S:
            disturbed.append(label)
            if len(disturbed) > MAX_DISTURBED:
                raise Fail(f"the baseline {baseline_name} was stopped or starved while it was timed "
                           f"{len(disturbed)} times (wall time far above its CPU time): the timing "
                           f"cannot be trusted, so the check fails ({_where(m)})")
            return  # this pair does not count

        if device == "cuda":
            b_time = float(b_reply["event_s"])
            overhead.setdefault(label, []).append(b_wall - b_time)
            l_time = trusted_cuda_time(float(l_reply.get("event_s") or 0.0), l_wall,
                                       median(overhead[label]))
        else:
            l_time, b_time = l_wall, b_wall
        last_base[label] = b_time
        if timed:
            m.ratios[label].append(l_time / b_time)
            m.baseline_ms[label].append(b_time * 1e3)
            fetch_rows.setdefault(label, []).append((l_fetch, b_fetch, l_time))

    for w in range(warmup):
        for j, case in enumerate(cases):
            one_pair(case.label, (w + j) % 2 == 1, timed=False)
    start = time.monotonic()
    rounds = 0
    while rounds < max_rounds:
        for j, case in enumerate(cases):  # alternate who goes first, so drift hits both alike
            one_pair(case.label, (rounds + j) % 2 == 0, timed=True)
        rounds += 1
        if rounds >= min_rounds and (all(is_stable(v) for v in m.ratios.values())
                                     or time.monotonic() - start > time_cap_s):
            break
    m.samples = rounds
    m.ratio, m.spread = summarise(m.ratios)
    for side in (lside, bside):  # the last case's sides: one per worker
        side.probe("speed_finish")
    _check_fetch_times(fetch_rows, baseline_name)
    return m


def _name(target: dict) -> str:
    return f"{target['name']}()" if target["kind"] == "entry" else f"{target['name']}.forward()"


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _where(m: Measurement) -> str:
    return f"{m.device}, {m.threads} thread{'s' if m.threads > 1 else ''}" if m.threads else m.device


def _close(got, expected) -> bool:
    """The fast path of ``compare`` with VERIFY_TOLERANCE (one pass in the output's dtype);
    anything it does not accept goes through ``compare`` for the message."""
    if type(got) is not torch.Tensor or got.shape != expected.shape or got.dtype != expected.dtype:
        return False
    if expected.numel() == 0:
        return True
    tol = VERIFY_TOLERANCE
    err = (got - expected).abs_()
    ref = expected.abs()
    allowed = ref * tol.rtol + tol.atol * max(float(ref.max()), 1.0)
    rel_l2 = float(err.norm()) / max(float(expected.norm()), 1e-30)
    return bool(torch.isfinite(got).all()) and not bool((err > allowed).any()) and rel_l2 <= tol.l2


def _verify(got, expected, reply, picks, label: str) -> None:
    if not _close(got, expected):
        compare(got, expected, dtype=expected.dtype, tolerance=VERIFY_TOLERANCE,
                what="the output of a timed call",
                case=f"{label} (speed check; one input element was changed just before the call)")
    sample = reply.get("sample") if type(reply) is dict else None
    if picks:
        flat = got.reshape(-1)
        want = flat[torch.tensor([int(p * flat.numel()) for p in picks], dtype=torch.long)]
        if type(sample) is not torch.Tensor or sample.shape != want.shape or not torch.equal(sample, want):
            raise Fail(f"{label}: the values read right after the timed call differ from the output "
                       f"returned afterwards (the output changed after the call returned)")


def _check_fetch_times(fetch_times: dict, baseline_name: str) -> None:
    """Work hidden in the untimed fetch shows: fetching is the same job on both sides."""
    for label, rows in fetch_times.items():
        learner_fetch = median([r[0] for r in rows])
        baseline_fetch = median([r[1] for r in rows])
        learner_call = median([r[2] for r in rows])
        if learner_fetch > 3 * baseline_fetch + 0.5 * learner_call + 0.005:
            raise Fail(f"{label}: reading back the output took {learner_fetch * 1e3:.1f} ms against "
                       f"{baseline_fetch * 1e3:.1f} ms for {baseline_name}; the timed call must do the "
                       f"work, not the untimed read-back")


def speed_verdict(m: Measurement, *, threshold: float, baseline_name: str) -> Verdict:
    """Pass when the median ratio is at most ``threshold``; the message carries every figure."""
    per_case = ", ".join(f"{label} {median(v):.2f}x" for label, v in m.ratios.items())
    n = sum(len(v) for v in m.ratios.values())
    shapes = f"median over {len(m.ratios)} shapes" if len(m.ratios) > 1 else "1 shape"
    text = (f"{m.ratio:.2f}x {baseline_name} ({shapes}: {per_case}; "
            f"spread IQR/median {m.spread:.0%}, {n} paired samples in {m.samples} interleaved "
            f"rounds, {_where(m)}); allowed at most {threshold:g}x")
    if m.device.startswith("cuda"):
        text += "; TF32: matmul off, cuDNN on (PyTorch's defaults), L2 flushed before each call"
    details = {"spread": round(m.spread, 4), "samples": n, "device": m.device, "threads": m.threads,
               "per_case": {k: round(median(v), 4) for k, v in m.ratios.items()},
               "baseline_ms": {k: round(median(v), 3) for k, v in m.baseline_ms.items() if v}}
    return Verdict(m.ratio <= threshold, text, measured=round(m.ratio, 4), threshold=threshold,
                   unit=UNIT, details=details)


def speed_check(cases, *, threshold: float, baseline_name: str, device: str = "cpu", **options):
    """A check function: ``Check(name, "speed", points, speed_check(...))``."""

    def run(ctx) -> Verdict:
        m = measure(ctx, cases, threshold=threshold, baseline_name=baseline_name, device=device,
                    **options)
        return speed_verdict(m, threshold=threshold, baseline_name=baseline_name)

    return run
