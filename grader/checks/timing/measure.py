"""Parent side of the timing engine (trusted): the parent's clock times the learner against a
trusted baseline, interleaved, on inputs that change everywhere from call to call.

The learner's worker is not trusted to report its own time (INTEGRITY.md, point 6). Both workers
run the protocol of ``grader.probes.timing`` (prepare, timed ``go``, untimed ``fetch``/``next``);
the baseline worker never loads learner code. Per case and per round, one timed call each, who goes
first alternating; a pair is verified before it counts:

- the learner's output must match a reference for *this* input: on CPU the fp32 baseline's own
  output (or the case's reference), on CUDA a float64 reference computed by the baseline worker,
  with a tolerance that follows the baseline's math mode (TF32 on CUDA; ``stats.math_mode``);
- values read inside the timed window must equal the output fetched afterwards.

Times. CPU: the CPU time the kernel charged to each worker process over the timed round trip, read
by the parent from /proc and the process CPU clock (``cputime``; both sides pay the same pipe and
guard entry, so that overhead cancels in the ratio as it did with wall time). The learner cannot
forge it, and a call descheduled by other processes costs no CPU, so the verdict does not depend on
the machine's load (issue 10). Every thread of the worker counts, including threads that end inside
the call: a learner that computes on two threads pays for both (the check compares work on one
intra-op thread each). What could make the CPU time small while the work still gets done? Sleeping
costs no CPU but makes the answer no sooner, so it gains nothing. Work done off the worker's CPU
would: a child or helper process (the guard and the sandbox forbid forking, and children are not
in the process's clock), the GPU (none on a CPU check), asynchronous kernel work (io_uring is
forbidden by the sandbox). So the parent's wall clock stays as the outer bound: a learner whose
median wall time is far above what its CPU time and the load explain (``stats.trusted_cpu_times``:
over twice the baseline's wall/CPU stretch) is judged by its wall time instead, scaled by the
baseline's CPU share. CUDA: CUDA events in the worker around the call and a device-wide
synchronise, after keep-busy work and an L2 flush; the learner's events are believed only as far as
the parent's clock allows (``stats.trusted_gpu_times``); the baseline's drift flags contention
(``stats.gpu_disturbed``); one grading process at a time times on a GPU (``gpu_lock``).

The figure: per case the median of the paired ratios learner time / baseline time, then the median
over cases: ``stats.TIME_RATIO``, lower is better.
"""

from __future__ import annotations

import fcntl
import os
import signal
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import torch

from grader.checks import cuda_errors
from grader.checks.compare import Tolerance, compare
from grader.checks.timing import stats
from grader.runner import cputime
from grader.checks.verdict import Fail, LearnerRaised, Verdict
from grader.probes import timing as probes
from grader.runner.guard import NO_BANS

SAMPLE_PICKS = 8  # output values returned inside the timed window
# CUDA outputs are verified at this many random positions per call (drawn after the call): to gain
# a fraction f of the time by skipping outputs, a kernel must leave about f of them wrong, which
# 4096 positions miss with probability (1 - f)**4096 per call (f = 0.1%: 1.7%).
VERIFY_POSITIONS = 4096
GPU_LOCK_WAIT_S = 300.0


# -- what to time, as plain data ------------------------------------------------------------------
@dataclass(frozen=True)
class SpeedCase:
    """One shape to time. Targets are dicts so they cross the pipe as plain data (kinds in
    ``grader.probes.timing.build``). ``inputs`` maps names to shapes; ``x`` changes before every
    timed call. ``reference``: run by the baseline worker to verify the learner's output (default:
    the baseline target itself); in its ``kwargs``, ``"state_dict": "learner"`` means the learner
    module's weights. ``dtype``: of every input. ``nbytes``: the least DRAM traffic of one call
    (for GB/s and the roofline bound), or None. ``verify``: a parent-side function
    ``(learner_out, baseline_out, label)`` replacing the tensor comparison (p06's training steps)."""

    label: str
    inputs: dict
    learner: dict
    baseline: dict
    reference: dict | None = None
    dtype: str = "float32"
    nbytes: int | None = None
    verify: Callable | None = None


@dataclass
class Measurement:
    ratios: dict = field(default_factory=dict)  # label -> paired ratios learner/baseline time
    ratio: float = float("nan")
    spread: float = float("nan")
    samples: int = 0
    device: str = "cpu"
    device_name: str = ""
    threads: int = 0
    baseline_ms: dict = field(default_factory=dict)  # label -> baseline times (ms)
    learner_ms: dict = field(default_factory=dict)  # label -> learner times (ms), as trusted
    time_source: dict = field(default_factory=dict)  # label -> "parent clock" / "events"
    peaks: dict = field(default_factory=dict)  # label -> ([learner bytes], [baseline bytes])
    disturbed: int = 0
    lock_wait_s: float = 0.0
    nbytes: dict = field(default_factory=dict)  # label -> bytes per call


# -- one GPU, one timer -----------------------------------------------------------------------------
def gpu_lock_path(directory: str | None = None) -> str:
    """One lock file per set of visible GPUs, shared by every grader process on the machine."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all").replace(",", "_").replace("/", "_") or "none"
    return os.path.join(directory or tempfile.gettempdir(), f"convkata-gpu-{visible}.lock")


@contextmanager
def gpu_lock(path: str | None = None, wait_s: float = GPU_LOCK_WAIT_S, poll_s: float = 0.05):
    """Hold an exclusive ``flock`` on ``path`` while timing on a GPU, so that `grader batch
    --device cuda --jobs N` (or two graders) never time two submissions on one GPU at once
    (issue 11 item 8). Yields the seconds waited; raises Fail after ``wait_s``."""
    path = path or gpu_lock_path()
    start = time.monotonic()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start > wait_s:
                    raise Fail(f"another grading process kept the GPU for {wait_s:.0f} s: speed checks on "
                               f"one GPU run one at a time ({path})") from None
                time.sleep(poll_s)
        try:
            yield time.monotonic() - start
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _maybe_gpu_lock(device: str):
    if device == "cuda":
        with gpu_lock() as waited:
            yield waited
    else:
        yield 0.0


# -- one worker's side of one case ------------------------------------------------------------------
class _Side:
    """``pause``: the learner's worker, frozen (SIGSTOP to its process group) while this side's
    timed call runs, so learner threads or children cannot slow the baseline down (or stop it)."""

    def __init__(self, ctx, worker, key: str, learner: bool, what: str, pause=None):
        self.ctx, self.worker, self.key, self.learner, self.what = ctx, worker, key, learner, what
        self.pause = pause

    def probe(self, fn, *args, timeout_s=None):
        if self.pause is not None:
            _signal_group(self.pause.pid, signal.SIGSTOP)
            _signal_group(self.worker.pid, signal.SIGCONT)
        try:
            # The learner's side keeps the problem's bans: a forbidden op in a timed call fails too.
            return self.ctx.probe(fn, *args, worker=self.worker, timeout_s=timeout_s,
                                  banned=None if self.learner else NO_BANS, what=self.what)
        finally:
            if self.pause is not None:
                _signal_group(self.pause.pid, signal.SIGCONT)

    def timed(self, fn, *args, timeout_s=None):
        start = time.perf_counter()
        reply = self.probe(fn, *args, timeout_s=timeout_s)
        return time.perf_counter() - start, reply

    def timed_cpu(self, fn, *args, timeout_s=None):
        """(wall s, CPU s charged to this side's worker process, reply) of one request. The
        samples are read by the parent before the request is sent and after the reply came."""
        try:
            before = cputime.sample(self.worker.pid)
        except ProcessLookupError:
            before = None  # the worker is gone: the request below says how it ended
        wall, reply = self.timed(fn, *args, timeout_s=timeout_s)
        try:
            if before is None:
                raise ProcessLookupError(self.worker.pid)
            cpu = cputime.charged_s(before, cputime.sample(self.worker.pid))
        except ProcessLookupError:
            raise Fail(f"{self.what}: the worker process ended during a timed call") from None
        return wall, cpu, reply


def _signal_group(pid: int, sig) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def measure(ctx, cases, *, threshold: float, baseline_name: str, device: str = "cpu",
            threads: int = 1, time_cap_s: float = 8.0, min_rounds: int = 8, max_rounds: int = 60,
            warmup: int = 2, slow_factor: float = 5.0, min_budget_s: float = 1.0,
            memory: bool = False) -> Measurement:
    """Time every case, learner and baseline interleaved; raise Fail on a wrong or hopeless answer.

    ``threshold``: the allowed time ratio (lower is better); a learner call that takes longer than
    ``slow_factor * threshold`` times the baseline's last wall time (at least ``min_budget_s``) is
    stopped and fails at once, so a per-pixel loop costs a second, not minutes. ``threads``: intra-op
    threads of both workers on CPU (one by default: on a loaded 2-core machine two OpenMP threads
    make F.conv2d swing by 5x, one does not). ``memory``: also record each side's peak CUDA memory
    over a timed call (bytes above what was allocated before it). Raises Fail, LearnerRaised (after
    a sticky CUDA error the learner's worker is replaced first)."""
    try:
        with _maybe_gpu_lock(device) as waited:
            m = _measure(ctx, cases, threshold=threshold, baseline_name=baseline_name, device=device,
                         threads=0 if device == "cuda" else threads, time_cap_s=time_cap_s,
                         min_rounds=min_rounds, max_rounds=max_rounds, warmup=warmup,
                         slow_factor=slow_factor, min_budget_s=min_budget_s, memory=memory)
            m.lock_wait_s = waited
            return m
    except LearnerRaised as raised:
        cuda_errors.replace_worker_after(ctx, raised.exc_type, raised.message)
        raise


def _measure(ctx, cases, *, threshold, baseline_name, device, threads, time_cap_s, min_rounds,
             max_rounds, warmup, slow_factor, min_budget_s, memory) -> Measurement:
    cuda = device == "cuda"
    learner_worker, baseline_worker = ctx.learner_worker(), ctx.baseline_worker()
    gen = torch.Generator().manual_seed(ctx.case_seed(0))
    m = Measurement(device=device)
    sides, rows, history, last_base, untimed, out_numel, perturbing = {}, {}, {}, {}, {}, {}, {}
    guard_bans = ctx.spec.banned.as_plain()
    for i, case in enumerate(cases):
        seed = ctx.case_seed(i + 1)
        key = f"{ctx.spec.id}/{ctx.check_name}/{i}"
        lside = _Side(ctx, learner_worker, key, True, f"{_name(case.learner)} (speed check, {case.label})")
        bside = _Side(ctx, baseline_worker, key, False, f"the baseline {baseline_name}", pause=learner_worker)
        linfo = lside.probe(probes.prepare, key, case.learner, case.inputs, seed, device, case.dtype,
                            None, threads, True)
        reference = case.reference
        if reference is not None and reference.get("kwargs", {}).get("state_dict") == "learner":
            state = linfo.get("state_dict") if type(linfo) is dict else None
            reference = dict(reference, kwargs=dict(reference["kwargs"],
                                                    state_dict=state if type(state) is dict else {}))
        binfo = bside.probe(probes.prepare, key, case.baseline, case.inputs, seed, device, case.dtype,
                            reference, threads, False)
        m.threads = int(binfo.get("threads", 0))
        m.device_name = str(binfo.get("device_name", ""))
        if cuda:
            m.device = f"cuda ({m.device_name or '?'})"
        sides[case.label] = (lside, bside, case)
        m.ratios[case.label], m.baseline_ms[case.label], m.learner_ms[case.label] = [], [], []
        # le / be: the learner's / baseline's time as measured on the device (CUDA events) or as
        # charged CPU time (CPU); lw / bw: the parent's wall clock around the same requests.
        rows[case.label] = {"le": [], "lw": [], "be": [], "bw": []}
        history[case.label], untimed[case.label] = [], []
        m.peaks[case.label] = ([], [])
        if case.nbytes:
            m.nbytes[case.label] = case.nbytes

    def learner_go(lside, case, args):
        base_s = last_base[case.label]
        budget = max(min_budget_s, slow_factor * threshold * base_s)
        try:
            return lside.timed_cpu(probes.go, *args, timeout_s=budget)
        except Fail as failure:
            if "did not finish" not in failure.message:
                raise
        bound = budget / base_s
        raise Fail(f"{case.label}: one call took more than {budget:.1f} s where {baseline_name} took "
                   f"{base_s * 1e3:.2f} ms, so it is at least {bound:.0f}x {baseline_name}'s time (allowed "
                   f"at most {threshold:g}x); stopped there ({_where(m)})",
                   measured=round(bound, 1), threshold=threshold, unit=stats.TIME_RATIO,
                   direction=stats.LOWER)

    def one_pair(label: str, learner_first: bool, timed: bool, perturb_next: bool = False):
        """One verified pair. ``perturb_next``: the input of the following pair is this one with a
        single element changed in place (the stale-cache probe), instead of fresh everywhere."""
        lside, bside, case = sides[label]
        mode = stats.math_mode(device, case.dtype)  # the loosest math a correct answer may use
        tol = stats.VERIFY_TOLERANCES[mode]
        seed = int(torch.randint(0, 2**62, (), generator=gen))
        next_seed = int(torch.randint(0, 2**62, (), generator=gen))  # CPU: made in the untimed fetch
        picks = torch.rand(SAMPLE_PICKS, generator=gen).tolist() if label in out_numel else []
        perturbed = perturbing.pop(label, False)
        args = (lside.key, picks, seed if cuda else None, memory, guard_bans, perturbed)
        if label not in last_base:
            learner_first = False  # the learner's time budget follows from the baseline's time
        if learner_first:
            l_wall, l_cpu, l_reply = learner_go(lside, case, args)
            b_wall, b_cpu, b_reply = bside.timed_cpu(probes.go, *args)
        else:
            b_wall, b_cpu, b_reply = bside.timed_cpu(probes.go, *args)
            last_base.setdefault(label, b_wall)
            l_wall, l_cpu, l_reply = learner_go(lside, case, args)
        l_reply = l_reply if type(l_reply) is dict else {}
        b_reply = b_reply if type(b_reply) is dict else {}
        if case.verify is not None:
            l_fetch, got = lside.timed(probes.fetch, lside.key, "out")
            b_fetch, expected = bside.timed(probes.fetch, bside.key, "out")
            case.verify(got, expected, label)
        elif cuda:  # outputs of up to gigabytes: verified in the workers, drawn after the call
            positions = picks + torch.rand(VERIFY_POSITIONS, generator=gen).tolist()
            projection = int(torch.randint(0, 2**62, (), generator=gen))
            l_fetch, got = lside.timed(probes.fetch, lside.key, "out", positions, projection)
            expected = bside.probe(probes.fetch, bside.key, "reference64", positions, projection)
            b_fetch = bside.timed(probes.fetch, bside.key, "out", positions, projection)[0]  # same job
            how = ("one input element was changed in place since the previous call" if perturbed else
                   "every timed call gets a fresh random input")
            _verify_sampled(got, expected, l_reply, len(picks), label, tol, mode, case.dtype, how)
            out_numel[label] = 1
        else:  # CPU: the whole output; the same request then makes the next input (both sides)
            nxt = (None, None, next_seed, perturb_next)
            l_fetch, got = lside.timed(probes.fetch, lside.key, "out", *nxt)
            if case.reference is not None:
                expected = bside.probe(probes.fetch, bside.key, "reference")
                b_fetch = bside.timed(probes.fetch, bside.key, "out", *nxt)[0]  # the same job
            else:
                b_fetch, expected = bside.timed(probes.fetch, bside.key, "out", *nxt)
            how = ("one input element was changed in place since the previous call" if perturbed else
                   "every timed call gets a fresh random input")
            _verify(got, expected, l_reply, picks, label, tol, mode, case.dtype, how)
            out_numel[label] = expected.numel()
        if perturb_next:
            perturbing[label] = True
        if cuda:
            b_time = float(b_reply.get("event_s") or 0.0)
            if b_time <= 0:
                raise Fail(f"{label}: the baseline's CUDA events returned no time")
            if timed and stats.gpu_disturbed(b_time, history[label]):
                return _disturbed(label)
            history[label].append(b_time)
        else:
            b_time = b_cpu  # descheduled time costs no CPU: no pair is disturbed by load
        last_base[label] = b_wall  # the learner's wall-clock budget follows the baseline's wall time
        if timed:
            r = rows[label]
            # CUDA: the fetch (the same job on both sides) is part of the wall time the events are
            # checked against, so work moved from the timed call into it still counts.
            r["lw"].append(l_wall + (l_fetch if cuda else 0.0))
            r["bw"].append(b_wall + (b_fetch if cuda else 0.0))
            r["be"].append(b_time)
            if cuda:
                event = l_reply.get("event_s")
                r["le"].append(float(event) if type(event) is float else 0.0)
            else:
                r["le"].append(l_cpu)
            untimed[label].append((l_fetch, b_fetch, l_wall))
            if memory:
                lp, bp = l_reply.get("peak_bytes"), b_reply.get("peak_bytes")
                if type(lp) is int and type(bp) is int:
                    m.peaks[label][0].append(lp)
                    m.peaks[label][1].append(bp)

    def _disturbed(label):
        m.disturbed += 1
        if m.disturbed > stats.MAX_DISTURBED:
            raise Fail(f"the baseline {baseline_name} was slowed down while it was timed {m.disturbed} "
                       f"times (its time far above its usual one: the GPU was shared): "
                       f"the timing cannot be trusted, so the check fails ({_where(m)})")

    for w in range(max(warmup, 2)):  # the second warm-up call is the stale-cache probe
        for j, case in enumerate(cases):
            one_pair(case.label, (w + j) % 2 == 1, timed=False, perturb_next=w == 0)
    start = time.monotonic()
    rounds = 0
    while rounds < max_rounds:
        for j, case in enumerate(cases):  # alternate who goes first, so drift hits both alike
            one_pair(case.label, (rounds + j) % 2 == 0, timed=True)
        rounds += 1
        _ratios(m, rows, cuda)
        # Disturbed pairs add no sample: keep going (up to max_rounds, or until too many pairs were
        # disturbed) while a case has none, whatever the time cap says.
        every_case = all(m.ratios.values())
        if rounds >= min_rounds and every_case and (all(stats.is_stable(v) for v in m.ratios.values())
                                                    or time.monotonic() - start > time_cap_s):
            break
    m.samples = rounds
    if not all(m.ratios.values()):
        raise Fail(f"the baseline {baseline_name} was slowed down in every timed call of a shape "
                   f"({m.disturbed} disturbed pairs in {rounds} rounds): the timing cannot be trusted, so "
                   f"the check fails ({_where(m)})")
    m.ratio, m.spread = stats.summarise(m.ratios)
    for label, (lside, bside, _) in sides.items():
        lside.probe(probes.finish)
        bside.probe(probes.finish)
        break  # finish frees every case of a worker
    _check_untimed(untimed, baseline_name)
    return m


def _ratios(m: Measurement, rows: dict, cuda: bool) -> None:
    """Recompute each case's ratios from the raw rows (on CUDA the trust decision is over all)."""
    for label, r in rows.items():
        if not r["bw"]:
            continue
        trust = stats.trusted_gpu_times if cuda else stats.trusted_cpu_times
        trusted = trust(r["le"], r["lw"], r["be"], r["bw"])
        learner, m.time_source[label] = trusted.times, trusted.source
        m.ratios[label] = [lt / bt for lt, bt in zip(learner, r["be"])]
        m.learner_ms[label] = [t * 1e3 for t in learner]
        m.baseline_ms[label] = [t * 1e3 for t in r["be"]]


def _name(target: dict) -> str:
    if target["kind"] == "entry":
        return f"{target['name']}()"
    if target["kind"] == "builder":
        return target.get("what", "your code")
    return f"{target['name']}.forward()"


def _where(m: Measurement) -> str:
    return f"{m.device}, {m.threads} thread{'s' if m.threads > 1 else ''}" if m.threads and m.device == "cpu" else m.device


# -- verification of timed outputs ------------------------------------------------------------------
def close(got, expected, tol: stats.VerifyTolerance, want_dtype: str = "float32") -> bool:
    """The fast path of the verification: same shape, the case's dtype, finite, within ``tol`` of
    ``expected`` (the float64 reference or the fp32 baseline), compared in float64."""
    if type(got) is not torch.Tensor or got.shape != expected.shape or got.dtype != getattr(torch, want_dtype):
        return False
    if expected.numel() == 0:
        return True
    g, e = got.double(), expected.double()
    err = (g - e).abs_()
    ref = e.abs()
    allowed = ref * tol.rtol + tol.atol * max(float(ref.max()), 1.0)
    rel_l2 = float(err.norm()) / max(float(e.norm()), 1e-30)
    return bool(torch.isfinite(g).all()) and not bool((err > allowed).any()) and rel_l2 <= tol.l2


def _verify(got, expected, reply, picks, label: str, tol, mode: str, dtype: str,
            how: str = "every timed call gets a fresh random input") -> None:
    if not close(got, expected, tol, dtype):
        compare(got, expected.to(getattr(torch, dtype)) if expected.dtype != torch.float64 else expected,
                dtype=getattr(torch, dtype), tolerance=Tolerance(tol.rtol, tol.atol, tol.l2),
                what="the output of a timed call",
                case=f"{label} (speed check: {how}; compared with "
                     f"a {'float64 reference' if expected.dtype == torch.float64 else 'fp32 baseline'}, "
                     f"{mode} tolerance)")
    sample = reply.get("sample") if type(reply) is dict else None
    if picks:
        flat = got.reshape(-1)
        want = flat[torch.tensor([int(p * flat.numel()) for p in picks], dtype=torch.long)]
        if type(sample) is not torch.Tensor or sample.shape != want.shape or not torch.equal(sample, want):
            raise Fail(f"{label}: the values read right after the timed call differ from the output "
                       f"returned afterwards (the output changed after the call returned)")


def _verify_sampled(got, expected, reply, n_picks: int, label: str, tol, mode: str, dtype: str,
                    how: str = "every timed call gets a fresh random input") -> None:
    """The CUDA verification: the learner's output at random positions against the float64
    reference there (both gathered in their workers), plus the values read in the timed window."""
    what = f"{label} (speed check: {how}; compared at random positions with a float64 reference, {mode} tolerance)"
    if type(got) is not dict or type(expected) is not dict:
        raise Fail(f"{label}: the grader could not read back the output of a timed call")
    if got.get("shape") != expected.get("shape") or got.get("dtype") != dtype:
        raise Fail(f"{label}: a timed call returned {got.get('dtype')} of shape {got.get('shape')}, expected "
                   f"{dtype} of shape {expected.get('shape')}")
    values, ref = got.get("values"), expected.get("values")
    if type(values) is not torch.Tensor or type(ref) is not torch.Tensor or values.shape != ref.shape \
            or str(values.dtype).replace("torch.", "") != dtype:
        raise Fail(f"{label}: the grader could not read back the output of a timed call")
    if not close(values, ref, tol, dtype):
        compare(values, ref, dtype=getattr(torch, dtype), tolerance=Tolerance(tol.rtol, tol.atol, tol.l2),
                what="the output of a timed call", case=what)
    if "projection" in expected:
        # <r, got - ref> ~ N(0, ||got - ref||^2) for r ~ N(0, I): beyond 4 * l2 * ||ref||, the output
        # is off by more than the tolerance somewhere the positions did not look.
        p_got, p_ref, norm = got.get("projection"), expected["projection"], expected.get("norm") or 0.0
        if type(p_got) is not float or not abs(p_got - p_ref) <= 4 * tol.l2 * norm:
            raise Fail(f"{label}: the output of a timed call is wrong away from the sampled positions (a random "
                       f"projection of it is {p_got!r}, of the float64 reference {p_ref:.6g}): every output "
                       f"value must be computed in the timed call")
    sample = reply.get("sample") if type(reply) is dict else None
    if n_picks and (type(sample) is not torch.Tensor or not torch.equal(sample, values[:n_picks])):
        raise Fail(f"{label}: the values read right after the timed call differ from the output "
                   f"returned afterwards (the output changed after the call returned)")


def _check_untimed(rows: dict, baseline_name: str) -> None:
    """Work hidden in the untimed steps shows: fetching the output and preparing the next input are
    the same job on both sides."""
    for label, r in rows.items():
        if not r:
            continue
        learner_untimed = stats.median([x[0] for x in r])
        baseline_untimed = stats.median([x[1] for x in r])
        learner_call = stats.median([x[2] for x in r])
        if learner_untimed > 3 * baseline_untimed + 0.5 * learner_call + 0.005:
            raise Fail(f"{label}: reading back the output and preparing the next input took "
                       f"{learner_untimed * 1e3:.1f} ms against {baseline_untimed * 1e3:.1f} ms for "
                       f"{baseline_name}; the timed call must do the work, not the untimed steps")


# -- the verdict --------------------------------------------------------------------------------------
def speed_verdict(m: Measurement, *, threshold: float, baseline_name: str,
                  peak_bandwidth: float | None = None) -> Verdict:
    """Pass when the median time ratio is at most ``threshold`` (lower is better); the message and
    ``details`` carry every figure. With ``peak_bandwidth`` (bytes/s) and cases' ``nbytes``: GB/s and
    % of peak per case, and a learner time beyond the roofline fails as impossible."""
    per_case = []
    details_bw = {}
    for label, v in m.ratios.items():
        text = f"{label} {stats.median(v):.2f}x"
        if label in m.nbytes:
            t = stats.median(m.learner_ms[label]) / 1e3
            gbs = m.nbytes[label] / t / 1e9
            pct = f", {m.nbytes[label] / t / peak_bandwidth:.0%} of peak" if peak_bandwidth else ""
            text += f" ({t * 1e3:.3f} ms, {gbs:.0f} GB/s{pct})"
            details_bw[label] = {"gb_per_s": round(gbs, 1), "direction": stats.HIGHER,
                                 "fraction_of_peak": round(m.nbytes[label] / t / peak_bandwidth, 4)
                                 if peak_bandwidth else None}
            if stats.beyond_roofline(t, m.nbytes[label], peak_bandwidth):
                raise Fail(f"{label}: a median of {t * 1e3:.3f} ms would move {gbs:.0f} GB/s, beyond "
                           f"{m.device}'s peak of {peak_bandwidth / 1e9:.0f} GB/s: the timing was tampered "
                           f"with or the work skipped")
        per_case.append(text)
    n = sum(len(v) for v in m.ratios.values())
    shapes = f"median over {len(m.ratios)} shapes" if len(m.ratios) > 1 else "1 shape"
    text = (f"{m.ratio:.2f}x {baseline_name}'s time ({shapes}: {'; '.join(per_case)}; "
            f"spread IQR/median {m.spread:.0%}, {n} paired samples in {m.samples} interleaved "
            f"rounds, {_where(m)}); allowed at most {threshold:g}x (lower is better)")
    if not m.device.startswith("cuda"):
        text += "; CPU time charged to each worker"
        parent = [k for k, v in m.time_source.items() if v == "parent clock"]
        if parent:
            text += (f"; your calls took far longer than their CPU time for {', '.join(parent)} (waiting "
                     f"for work done elsewhere?), so the grader's clock timed them")
    if m.device.startswith("cuda"):
        text += ("; TF32: matmul off, cuDNN on (PyTorch's defaults), GPU kept busy and L2 flushed "
                 "before each call")
        parent = [k for k, v in m.time_source.items() if v == "parent clock"]
        if parent:
            text += (f"; your CUDA-event times disagreed with the grader's clock for {', '.join(parent)}, "
                     f"so the grader's clock timed them")
    details = {"spread": round(m.spread, 4), "samples": n, "device": m.device, "threads": m.threads,
               "per_case": {k: round(stats.median(v), 4) for k, v in m.ratios.items()},
               "baseline_ms": {k: round(stats.median(v), 4) for k, v in m.baseline_ms.items() if v},
               "learner_ms": {k: round(stats.median(v), 4) for k, v in m.learner_ms.items() if v},
               "disturbed_pairs": m.disturbed}
    if m.time_source:
        details["time_source"] = dict(m.time_source)
    if details_bw:
        details["bandwidth"] = details_bw
    return Verdict(stats.passes(m.ratio, threshold, stats.LOWER), text, measured=round(m.ratio, 4),
                   threshold=threshold, unit=stats.TIME_RATIO, direction=stats.LOWER, details=details)


def memory_verdict(m: Measurement, *, threshold: float, what: str, baseline_name: str) -> Verdict:
    """Pass when the learner's median peak over the baseline's is at most ``threshold``.
    NOTE: the learner's peak is read in its own worker (torch.cuda.max_memory_allocated): evidence,
    not proof."""
    ratios, parts = [], []
    for label, (lp, bp) in m.peaks.items():
        if not lp or not bp or stats.median(bp) <= 0:
            raise Fail(f"{label}: the grader could not read the peak CUDA memory of the timed calls")
        ratio = stats.median(lp) / stats.median(bp)
        ratios.append(ratio)
        parts.append(f"{label}: {what} {stats.median(lp) / 2**20:.0f} MiB vs {baseline_name} "
                     f"{stats.median(bp) / 2**20:.0f} MiB")
    ratio = stats.median(ratios)
    text = (f"peak CUDA memory above the persistent state during a timed call: {'; '.join(parts)} = "
            f"{ratio:.2f}x (allowed at most {threshold:g}x, lower is better; uncalibrated)")
    return Verdict(stats.passes(ratio, threshold, stats.LOWER), text, measured=round(ratio, 4),
                   threshold=threshold, unit=stats.MEMORY_RATIO, direction=stats.LOWER)


def speed_check(cases, *, threshold: float, baseline_name: str, device: str = "cpu",
                peak_bandwidth: Callable | None = None, **options):
    """A check function: ``Check(name, "speed", points, speed_check(...))``.
    ``peak_bandwidth``: device name -> bytes/s (or None), for memory-bound kernels."""

    def run(ctx) -> Verdict:
        m = measure(ctx, cases, threshold=threshold, baseline_name=baseline_name, device=device, **options)
        peak = peak_bandwidth(m.device_name) if peak_bandwidth else None
        return speed_verdict(m, threshold=threshold, baseline_name=baseline_name, peak_bandwidth=peak)

    return run
