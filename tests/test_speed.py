"""The timing engine: its statistics and decisions on plain numbers, its worker-side protocol on
a fake worker, and its verdicts against real workers on CPU.

No test asserts an absolute time: only ratios far from their thresholds (a per-pixel loop, the
reference) and what a message must contain. The CUDA paths are tested through the decisions they
make (trust in events, contention, the TF32 tolerance, the GPU lock), which take plain numbers.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT, TEST_SEED
from grader import grading, registry
from grader.checks import cuda_errors
from grader.runner import cputime
from grader.checks.timing import measure as timing
from grader.checks.timing import stats
from grader.checks.verdict import Fail
from grader.probes import timing as probes
from grader.results import CheckResult

P07 = ROOT / "tests" / "submissions" / "p07"


# -- pure statistics ----------------------------------------------------------------------------
def test_quantile_interpolates_like_numpy():
    assert stats.quantile([4, 1, 3, 2], 0.5) == 2.5
    assert stats.quantile([1, 2, 3, 4, 5], 0.25) == 2
    assert stats.quantile([10], 0.9) == 10
    assert stats.median([3, 1, 2]) == 2
    with pytest.raises(ValueError):
        stats.quantile([], 0.5)


def test_relative_iqr():
    assert stats.relative_iqr([1.0, 1.0, 1.0]) == 0
    assert stats.relative_iqr([1, 2, 3, 4, 5]) == pytest.approx(2 / 3)


def test_is_stable_needs_enough_samples_and_a_steady_median():
    assert not stats.is_stable([1.0] * 7)
    assert stats.is_stable([1.0] * 8)
    assert stats.is_stable([1.0, 1.01, 0.99, 1.0, 1.0, 1.01, 0.99, 1.0])
    assert not stats.is_stable([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])  # drifted
    assert stats.is_stable([1.0] * 6 + [2.0, 2.0], rel_tol=0.0)  # the median held


def test_summarise_is_the_median_over_cases():
    ratio, spread = stats.summarise({"a": [1.0, 1.0, 1.0], "b": [2.0, 3.0, 4.0], "c": [9.0] * 3})
    assert ratio == 3.0
    assert spread == 0.0


def test_pass_rule_follows_the_direction():
    assert stats.passes(0.5, 0.7, stats.LOWER) and not stats.passes(0.8, 0.7, stats.LOWER)
    assert stats.passes(2.1, 2.0, stats.HIGHER) and not stats.passes(1.9, 2.0, stats.HIGHER)
    assert not stats.passes(float("nan"), 10.0) and not stats.passes(float("inf"), 10.0)
    with pytest.raises(ValueError):
        stats.passes(1.0, 1.0, "faster")


# -- CPU: charged CPU time, bounded by the parent's clock (issue 10) -----------------------------
def test_cpu_times_are_used_when_the_load_stretches_both_sides_alike():
    # Load 10 on the machine: every call's wall time is ~5x its CPU time, on both sides.
    base_cpu, base_wall = [0.010] * 5, [0.050, 0.048, 0.052, 0.049, 0.051]
    learner_cpu, learner_wall = [0.005] * 5, [0.026, 0.024, 0.025, 0.027, 0.023]
    trusted = stats.trusted_cpu_times(learner_cpu, learner_wall, base_cpu, base_wall)
    assert trusted.source == "CPU time" and trusted.times == learner_cpu


def test_waiting_for_work_done_elsewhere_is_judged_by_the_clock():
    # Quiet machine, but the learner's worker spends 0.2 ms of CPU on a 20 ms call (a helper
    # process did the work): its time is its wall time, scaled by the baseline's CPU share.
    base_cpu, base_wall = [0.010] * 5, [0.0105] * 5
    trusted = stats.trusted_cpu_times([0.0002] * 5, [0.020] * 5, base_cpu, base_wall)
    assert trusted.source == "parent clock"
    assert trusted.times == pytest.approx([0.020 / 1.05] * 5)
    with pytest.raises(ValueError):
        stats.trusted_cpu_times([], [], base_cpu, base_wall)


def _fake_proc(root, pid, threads: dict, ticks: tuple):
    for tid, ns in threads.items():
        d = root / str(pid) / "task" / str(tid)
        d.mkdir(parents=True, exist_ok=True)
        (d / "schedstat").write_text(f"{ns} 12345 67\n")
    utime, stime = ticks
    # comm with a space and a parenthesis, as a learner could name its process
    fields = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
    (root / str(pid) / "stat").write_text(f"{pid} (evil) name) " + " ".join(fields) + "\n")


def test_proc_cpu_time_sums_threads_and_counts_exited_ones(tmp_path):
    before_root, after_root = tmp_path / "a", tmp_path / "b"
    _fake_proc(before_root, 42, {42: 1_000_000_000, 43: 500_000_000}, (140, 20))
    # 42 ran 0.1 s more, 43 0.2 s more, 44 was born and ran 0.05 s: 0.35 s by the threads.
    _fake_proc(after_root, 42, {42: 1_100_000_000, 43: 700_000_000, 44: 50_000_000}, (175, 20))
    before = cputime.sample(42, str(before_root), clock=False)
    after = cputime.sample(42, str(after_root), clock=False)
    assert before.ticks == 160 and before.threads == {42: 1_000_000_000, 43: 500_000_000}
    assert cputime.charged_s(before, after, ticks_per_s=100) == pytest.approx(0.35)
    # A thread that worked 1 s and exited before the second sample: the ticks (which keep exited
    # threads' time) say 1.35 s, less two ticks of truncation.
    _fake_proc(after_root, 42, {42: 1_100_000_000, 43: 700_000_000}, (275, 20))
    (after_root / "42" / "task" / "44" / "schedstat").unlink()
    (after_root / "42" / "task" / "44").rmdir()
    after = cputime.sample(42, str(after_root), clock=False)
    assert cputime.charged_s(before, after, ticks_per_s=100) == pytest.approx(1.33)
    # The process clock, where there is one, wins when larger.
    assert cputime.charged_s(cputime.CpuSample(before.threads, 0, before.ticks),
                             cputime.CpuSample(after.threads, 1_400_000_000, after.ticks), 100) == pytest.approx(1.4)
    with pytest.raises(ProcessLookupError):
        cputime.sample(7, str(before_root), clock=False)


SPIN_CHILD = """
import sys, threading, time
def spin():
    while time.thread_time() < 0.2:  # 0.2 s of this thread's own CPU, however long that takes
        pass
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
t = threading.Thread(target=spin); t.start()
if sys.argv[1] == "exit":
    t.join()  # the spinning thread is gone before the parent's second sample
sys.stdout.write("spun\\n"); sys.stdout.flush()
if sys.argv[1] == "live":
    while t.is_alive():
        time.sleep(0.01)
sys.stdin.readline()
"""


@pytest.mark.parametrize("how", ["live", "exit"])
def test_a_workers_spinning_thread_is_counted(how):
    # A real process, read from the real /proc: a second thread's CPU is charged to the process,
    # whether it is still alive at the second sample (schedstat) or has exited (process clock).
    child = subprocess.Popen([sys.executable, "-c", SPIN_CHILD, how], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        before = cputime.sample(child.pid)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "spun\n"
        if how == "live":
            assert len(cputime.sample(child.pid).threads) >= 2  # the spinner is running now
        deadline = time.monotonic() + 60
        while cputime.charged_s(before, cputime.sample(child.pid)) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.01)  # (live) until the spinner has had its 0.2 s of CPU
        after = cputime.sample(child.pid)
        assert cputime.charged_s(before, after) >= 0.2
        if how == "exit":
            assert len(after.threads) == 1  # only the exited thread's time can explain the figure
        child.stdin.write("end\n")
        child.stdin.flush()
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait()


def test_gpu_contention_is_a_baseline_far_slower_than_its_own_history():
    history = [0.0010, 0.00102, 0.00099]
    assert not stats.gpu_disturbed(0.00105, history)
    assert stats.gpu_disturbed(0.0020, history)  # another process shared the GPU
    assert not stats.gpu_disturbed(0.0020, history[:2])  # too little history to judge


def test_gpu_lock_lets_one_timer_at_a_time(tmp_path):
    path = str(tmp_path / "gpu.lock")
    with timing.gpu_lock(path) as waited:
        assert waited < 1.0
        with pytest.raises(Fail, match="one at a time"):
            with timing.gpu_lock(path, wait_s=0.2):
                pass
    with timing.gpu_lock(path, wait_s=0.2):  # released: the next one gets it at once
        pass


def test_gpu_lock_is_per_set_of_visible_gpus(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    one = timing.gpu_lock_path(str(tmp_path))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert one != timing.gpu_lock_path(str(tmp_path))


# -- trust in a worker's CUDA events (items 5 and 6) ----------------------------------------------
def _jittery(n, base, jitter):
    gen = torch.Generator().manual_seed(0)
    return [base + jitter * float(torch.rand((), generator=gen)) for _ in range(n)]


def test_honest_events_are_used_and_jitter_does_not_inflate_the_learner():
    events = [0.0010] * 20
    base_wall = [e + o for e, o in zip(events, _jittery(20, 0.0003, 0.0004))]
    learner_wall = [e + o for e, o in zip(events, _jittery(20, 0.0003, 0.0004)[::-1])]
    trusted = stats.trusted_gpu_times(events, learner_wall, events, base_wall)
    assert trusted.source == "events"
    assert stats.median(trusted.times) == pytest.approx(0.0010)  # not the wall-minus-overhead bound


def test_events_that_hide_work_fall_back_to_the_parents_clock():
    base_event, base_wall = [0.0010] * 20, _jittery(20, 0.0013, 0.0002)
    # Side-stream work or patched events: 0.1 ms claimed, 10 ms on the parent's clock.
    learner_event, learner_wall = [0.0001] * 20, _jittery(20, 0.0103, 0.0002)
    trusted = stats.trusted_gpu_times(learner_event, learner_wall, base_event, base_wall)
    assert trusted.source == "parent clock"
    assert stats.median(trusted.times) == pytest.approx(0.0100, rel=0.05)
    zero = stats.trusted_gpu_times([0.0] * 20, base_wall, base_event, base_wall)
    assert zero.source == "parent clock"  # no event time at all is not believed either
    with pytest.raises(ValueError):
        stats.trusted_gpu_times([], [], base_event, base_wall)


def test_roofline_bound():
    two_gib = 2 * 2**30
    assert stats.beyond_roofline(0.0001, two_gib, 3.35e12)  # 21 TB/s on a 3.35 TB/s card
    assert not stats.beyond_roofline(0.0011, two_gib, 3.35e12)  # 1.95 TB/s: possible
    assert not stats.beyond_roofline(0.0001, two_gib, None)  # unknown card: no bound


# -- verification of timed outputs against float64, by math mode (item 2) --------------------------
def _tf32(t: torch.Tensor) -> torch.Tensor:
    """Round fp32 to TF32 (10 explicit mantissa bits, round to nearest) as tensor cores do."""
    bits = t.contiguous().view(torch.int32)
    rounded = (bits + 0x1000) & ~0x1FFF
    return rounded.view(torch.float32)


def test_math_mode_of_the_baseline():
    assert stats.math_mode("cpu", "float32") == "fp32"
    assert stats.math_mode("cuda", "float32") == "tf32"  # cuDNN's default
    assert stats.math_mode("cuda", "float32", cudnn_tf32=False) == "fp32"
    assert stats.math_mode("cuda", "float16") == "fp16"


def test_tf32_answers_pass_the_tf32_tolerance_and_stale_ones_fail_every_tolerance():
    gen = torch.Generator().manual_seed(3)
    x, w = torch.randn(2, 64, 20, 20, generator=gen), torch.randn(64, 64, 3, 3, generator=gen) / 24
    ref64 = F.conv2d(x.double(), w.double(), padding=1)
    fp32 = F.conv2d(x, w, padding=1)
    tf32 = F.conv2d(_tf32(x), _tf32(w), padding=1)  # what cuDNN computes with TF32 on
    rel = float((tf32.double() - ref64).norm() / ref64.norm())
    assert 1e-4 < rel < 2e-3  # the 3e-4..8e-4: beyond the old 1e-4, so it failed the reference
    tol32, tol_tf32 = stats.VERIFY_TOLERANCES["fp32"], stats.VERIFY_TOLERANCES["tf32"]
    assert timing.close(fp32, ref64, tol32) and timing.close(fp32, ref64, tol_tf32)
    assert not timing.close(tf32, ref64, tol32)
    assert timing.close(tf32, ref64, tol_tf32)
    stale = F.conv2d(torch.randn(2, 64, 20, 20, generator=gen), w, padding=1)  # a previous input's answer
    assert not timing.close(stale, ref64, tol_tf32)
    patched = tf32.clone()
    patched[1, :, 5:8, 5:8] += 1.0  # a few pixels not recomputed
    assert not timing.close(patched, ref64, tol_tf32)
    assert not timing.close(fp32.double(), ref64, tol_tf32)  # the dtype must be the input's
    with pytest.raises(Fail, match="fresh random input"):
        timing._verify(stale, ref64, {}, [], "case", tol_tf32, "tf32", "float32")


def test_verify_catches_an_output_that_changed_after_the_call():
    out = torch.arange(100.0)
    picks = [0.05, 0.5, 0.93]
    sample = out[[5, 50, 93]]
    tol = stats.VERIFY_TOLERANCES["fp32"]
    timing._verify(out, out, {"sample": sample}, picks, "case", tol, "fp32", "float32")
    with pytest.raises(Fail, match="differ from the output"):
        timing._verify(out, out, {"sample": sample + 1}, picks, "case", tol, "fp32", "float32")


# -- the worker-side protocol, on a fake worker -----------------------------------------------------
class _Env:
    def __init__(self):
        self.state, self.module = {}, None

    def learner(self):
        from grader.runner.guard import NO_BANS, Guard
        return Guard(NO_BANS)


def test_every_timed_call_gets_an_input_fresh_everywhere_in_another_storage():
    env = _Env()
    target = {"kind": "torch", "name": "conv2d", "args": ("x", "weight"), "kwargs": {"padding": 1}}
    probes.prepare(env, "k", target, {"x": (1, 2, 6, 6), "weight": (3, 2, 3, 3)}, 7, "cpu")
    slot = env.state["k"]
    first = slot["inputs"]["x"]
    old = first.clone()
    probes.go(env, "k", [0.5])
    probes.next_input(env, "k", 11)
    second = slot["inputs"]["x"]
    assert second.untyped_storage().data_ptr() != first.untyped_storage().data_ptr()
    assert bool((second != old).all())  # differs everywhere
    probes.go(env, "k", [])
    probes.next_input(env, "k", 12)
    third = slot["inputs"]["x"]
    assert third.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
    assert bool((third != old).all()) and bool((third != second).all())  # the reused buffer is refilled
    out = probes.go(env, "k", [0.0, 0.99])
    assert torch.equal(probes.fetch(env, "k", "out"), F.conv2d(third, slot["inputs"]["weight"], padding=1))
    assert out["sample"].shape == (2,) and "cpu_s" not in out  # CPU time is read by the parent
    # The stale-cache probe: one element changed in place, same tensor.
    before = third.clone()
    probes.next_input(env, "k", 13, True)
    assert slot["inputs"]["x"] is third and int((third != before).sum()) == 1
    ref = probes.fetch(env, "k", "reference64")
    assert ref.dtype == torch.float64
    probes.finish(env)
    assert "k" not in env.state


def test_both_workers_draw_the_same_inputs_from_the_same_seeds():
    a, b = _Env(), _Env()
    target = {"kind": "torch", "name": "relu"}
    for env in (a, b):
        probes.prepare(env, "k", target, {"x": (3, 4)}, 5, "cpu")
        probes.next_input(env, "k", 99)
    assert torch.equal(a.state["k"]["inputs"]["x"], b.state["k"]["inputs"]["x"])


def test_builders_come_only_from_grader_probes():
    with pytest.raises(LookupError):
        probes.build(_Env(), {"kind": "builder", "name": "os:system"}, {}, 0, "cpu")


# -- sticky CUDA errors (item 1) ---------------------------------------------------------------------
class _Worker:
    closed = False

    def kill(self):
        self.closed = True


class _Ctx:
    def __init__(self, device):
        self.device, self._learner = device, _Worker()


def test_a_sticky_cuda_error_replaces_the_learners_worker():
    message = "CUDA error: an illegal memory access was encountered"
    assert cuda_errors.is_sticky_cuda_error("RuntimeError", message)
    assert cuda_errors.is_sticky_cuda_error("AcceleratorError", "CUDA error: unspecified launch failure")
    assert not cuda_errors.is_sticky_cuda_error("OutOfMemoryError", "CUDA out of memory. Tried to allocate")
    assert not cuda_errors.is_sticky_cuda_error("ValueError", "shapes do not match")
    ctx = _Ctx("cuda")
    assert cuda_errors.replace_worker_after(ctx, "RuntimeError", message) and ctx._learner.closed
    cpu = _Ctx("cpu")
    assert not cuda_errors.replace_worker_after(cpu, "RuntimeError", message) and not cpu._learner.closed
    ok = _Ctx("cuda")
    assert not cuda_errors.replace_worker_after(ok, "ValueError", "bad shape") and not ok._learner.closed


def test_run_check_replaces_the_worker_after_a_cuda_error():
    from grader.checks.verdict import LearnerRaised
    from grader.spec import Check

    def crashes(ctx):
        raise LearnerRaised("RuntimeError", "CUDA error: device-side assert triggered", "", "f()")

    ctx = _Ctx("cuda")
    ctx.check_name = ""
    result = grading.run_check(Check("c", "correctness", 1, crashes), ctx)
    assert result.status == "error" and ctx._learner.closed


# -- the verdict and the JSON --------------------------------------------------------------------------
def test_verdict_reports_every_figure_and_its_direction():
    m = timing.Measurement(ratios={"3x3": [1.2, 1.3, 1.25], "1x1": [0.8, 0.9, 0.85]}, samples=3,
                           device="cpu", threads=1, baseline_ms={"3x3": [5.0], "1x1": [2.0]})
    m.ratio, m.spread = stats.summarise(m.ratios)
    verdict = timing.speed_verdict(m, threshold=10.0, baseline_name="F.conv2d")
    assert verdict.passed and verdict.unit == "x baseline time" and verdict.threshold == 10.0
    assert verdict.direction == "lower"
    assert verdict.measured == pytest.approx(1.05)
    for text in ("1.05x F.conv2d's time", "spread IQR/median", "6 paired samples", "cpu, 1 thread",
                 "allowed at most 10x (lower is better)", "3x3 1.25x"):
        assert text in verdict.message
    assert not timing.speed_verdict(m, threshold=1.0, baseline_name="F.conv2d").passed


def test_bandwidth_figures_and_the_roofline_in_the_verdict():
    nbytes = 2 * 2**30
    m = timing.Measurement(ratios={"large": [0.4, 0.41, 0.42]}, samples=3, device="cuda (NVIDIA H100)",
                           learner_ms={"large": [1.05, 1.05, 1.05]}, baseline_ms={"large": [2.6]},
                           nbytes={"large": nbytes})
    m.ratio, m.spread = stats.summarise(m.ratios)
    verdict = timing.speed_verdict(m, threshold=1.0, baseline_name="F.conv2d", peak_bandwidth=3.35e12)
    assert verdict.passed and "2045 GB/s, 61% of peak" in verdict.message
    assert verdict.details["bandwidth"]["large"]["direction"] == "higher"
    m.learner_ms["large"] = [0.1] * 3
    with pytest.raises(Fail, match="beyond .* peak"):
        timing.speed_verdict(m, threshold=1.0, baseline_name="F.conv2d", peak_bandwidth=3.35e12)


def test_direction_is_in_the_json_of_a_check():
    result = CheckResult("speed", "speed", "passed", 1, 1, measured=1.5, threshold=10.0,
                         unit=stats.TIME_RATIO, direction=stats.LOWER)
    assert result.to_dict()["direction"] == "lower"
    assert "direction" not in CheckResult("c", "correctness", "passed", 1, 1).to_dict()
    with pytest.raises(AssertionError):
        CheckResult("c", "speed", "passed", 1, 1, direction="faster")


# -- the engine against real workers ----------------------------------------------------------------
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
    if "cannot be trusted" in check.message:
        pytest.skip("the machine was too loaded to time anything: " + check.message)
    assert check.status == "passed", check.message
    assert check.unit == "x baseline time" and check.direction == "lower" and check.threshold == 10.0
    assert 0 < check.measured < check.threshold
    assert "cpu, 1 thread" in check.message and "paired samples" in check.message


def test_per_pixel_loop_fails_the_threshold_quickly(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", P07 / "wrong_per_pixel_loop.py")
    assert check.status == "failed", check.message
    # Stopped in the warm-up, where load cannot end the check first.
    assert "stopped there" in check.message
    assert check.measured > check.threshold and check.direction == "lower"


@pytest.mark.parametrize("name", ["wrong_cached_by_id.py", "wrong_cached_by_value.py"])
def test_replayed_outputs_fail_verification(server, tmp_path, name):
    # Caught in the warm-up (one element changed in place), before any time is taken.
    check = _grade_speed_only(server, tmp_path, "p07", P07 / name)
    assert check.status == "failed"
    assert "the output of a timed call" in check.message
    assert "one input element was changed in place" in check.message


def test_patching_a_cached_output_does_not_pay(server, tmp_path):
    # Issue 13 route 8 (load cannot end the check first: a descheduled call costs no CPU).
    check = _grade_speed_only(server, tmp_path, "p07", P07 / "hostile_patches_cached_output.py")
    assert check.status == "failed", check.message
    assert "stopped there" in check.message


PATCHED_PROBE = (ROOT / "solutions" / "p07_fast_conv.py").read_text() + '''

# Attack the protocol itself: make the timed probe return at once and do the work in the
# untimed fetch.
import grader.probes.timing as _timing

_real_fetch = _timing.fetch


def _fast_go(env, key, picks, seed=None, memory=False, guard_bans=None, perturb=False):
    return {"sample": None, "event_s": None, "peak_bytes": None}


def _slow_fetch(env, key, which="out", *rest):
    slot = env.state[key]
    if which == "out":
        slot["out"] = slot["call"]()
    return _real_fetch(env, key, which, *rest)


_timing.go, _timing.fetch = _fast_go, _slow_fetch
'''


def test_work_moved_into_the_untimed_fetch_is_caught(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", PATCHED_PROBE)
    assert check.status == "failed", check.message
    assert "after the timed call" in check.message or "untimed steps" in check.message


def test_no_speed_skips_and_gpu_checks_skip_on_cpu(server, tmp_path):
    source = ROOT / "solutions" / "p07_fast_conv.py"
    check = _grade_speed_only(server, tmp_path, "p07", source, speed=False)
    assert check.status == "skipped" and "--no-speed" in check.message
    gpu = [c for c in registry.find("p07").checks + registry.find("p05").checks if c.needs_cuda]
    assert len(gpu) == 2 and all(c.kind == "speed" for c in gpu)
    reason = grading._skip_reason(gpu[0], grading.Options(device="cpu"))
    assert "CUDA" in reason


# -- p06 on CUDA: decisions on plain values (items 3 and 4) ----------------------------------------
def test_p06_make_scaler_asks_for_cuda_only_on_a_cuda_run(monkeypatch):
    from grader.problems import p06_mixed_precision as p06

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU host, graded on CPU
    asked = []

    class Ctx:
        device = "cpu"

        def probe(self, fn, device, dtype, what=None):
            asked.append((device, dtype))
            return {"type": "GradScaler", "enabled": dtype == torch.float16, "device": device}

    verdict = p06.check_make_scaler(Ctx())
    assert verdict.passed and ("cuda", torch.float16) not in asked and "--device cuda" in verdict.message
    Ctx.device = "cuda"
    asked.clear()
    p06.check_make_scaler(Ctx())
    assert ("cuda", torch.float16) in asked


def test_p06_timed_steps_must_train_and_not_skip():
    from grader.problems import p06_mixed_precision as p06

    good = {"losses": [2.3] * p06.STEPS, "changed": True, "scale_before": 4096.0, "scale_after": 4096.0}
    p06._verify_steps(good, None, "net")
    p06._verify_steps(dict(good, scale_after=2048.0), None, "net")  # one overflow is allowed
    with pytest.raises(Fail, match="3 of 5 timed steps were skipped"):
        p06._verify_steps(dict(good, scale_after=512.0), None, "net")
    with pytest.raises(Fail, match="did not change the parameters"):
        p06._verify_steps(dict(good, changed=False), None, "net")
    with pytest.raises(Fail, match="finite floats"):
        p06._verify_steps(dict(good, losses=[float("nan")] * p06.STEPS), None, "net")


def test_p06_speed_figure_is_a_time_ratio_below_the_tf32_ceiling():
    from grader.problems import p06_mixed_precision as p06

    # H100 dense fp16 989 TFLOP/s vs TF32 494: AMP's best time ratio against TF32 is ~0.5; the
    # threshold must leave room above it, and stay well below 1 (no fp16 at all).
    assert 0.5 < p06.AMP_TIME_MAX < 0.9
    names = [c.name for c in p06.SPEC.checks if c.needs_cuda]
    assert names == ["CUDA: AMP step at most 0.7x the fp32 step's time", "CUDA: AMP peak memory at most 0.7x fp32"]


def test_cuda_workers_get_a_data_limit_and_cpu_workers_an_address_space_limit():
    import subprocess
    import sys

    code = ("import resource, sys; from grader.runner import limits; "
            "limits.apply_worker_limits(256, sys.argv[1]); "
            "print(resource.getrlimit(resource.RLIMIT_DATA)[0] != resource.RLIM_INFINITY, "
            "resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY)\n"
            "try:\n    b = bytearray(1 << 30); print('allocated')\nexcept MemoryError:\n    print('MemoryError')")
    for kind, limited in (("data", "True False"), ("as", "False True")):
        out = subprocess.run([sys.executable, "-c", code, kind], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
        assert out.stdout.split("\n")[:2] == [limited, "MemoryError"], (kind, out.stdout, out.stderr)


def test_cuda_outputs_are_verified_at_random_positions_gathered_in_the_workers():
    env = _Env()
    target = {"kind": "torch", "name": "conv2d", "args": ("x", "weight"), "kwargs": {"padding": 1}}
    probes.prepare(env, "k", target, {"x": (1, 2, 6, 6), "weight": (3, 2, 3, 3)}, 7, "cpu")
    picks = [0.1, 0.7]
    reply = probes.go(env, "k", picks)
    positions = picks + [0.0, 0.3, 0.5, 0.99]
    got = probes.fetch(env, "k", "out", positions)
    ref = probes.fetch(env, "k", "reference64", positions)
    assert got["shape"] == [1, 3, 6, 6] and got["dtype"] == "float32" and ref["dtype"] == "float64"
    tol = stats.VERIFY_TOLERANCES["tf32"]
    timing._verify_sampled(got, ref, reply, len(picks), "case", tol, "tf32", "float32")
    with pytest.raises(Fail, match="the output of a timed call"):
        timing._verify_sampled(dict(got, values=got["values"] + 1), ref, reply, 0, "case", tol, "tf32", "float32")
    with pytest.raises(Fail, match="changed after the call"):
        timing._verify_sampled(got, ref, {"sample": reply["sample"] + 1}, len(picks), "case", tol, "tf32", "float32")
    with pytest.raises(Fail, match="expected float32 of shape"):
        timing._verify_sampled(dict(got, dtype="float16"), ref, reply, 0, "case", tol, "tf32", "float32")
    # A random projection, drawn after the call, covers the positions nobody sampled.
    got = probes.fetch(env, "k", "out", positions, 1234)
    ref = probes.fetch(env, "k", "reference64", positions, 1234)
    timing._verify_sampled(got, ref, reply, len(picks), "case", tol, "tf32", "float32")
    slot = env.state["k"]
    slot["out"] = slot["out"].clone()
    flat = slot["out"].view(-1)
    keep = {int(p * flat.numel()) for p in positions}
    hole = next(i for i in range(flat.numel()) if i not in keep)
    flat[hole] += 5.0  # one unsampled output wrong (real attacks skip many)
    cheat = probes.fetch(env, "k", "out", positions, 1234)
    with pytest.raises(Fail, match="away from the sampled positions"):
        timing._verify_sampled(cheat, ref, reply, len(picks), "case", tol, "tf32", "float32")


# -- the GPU check script (runs on a CUDA machine; here: it parses and its Python imports) ----------
def test_gpu_check_script_parses_and_its_python_imports_on_cpu():
    import runpy
    import subprocess

    script = ROOT / "scripts" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    for needed in ("grader doctor", "--device cuda p05 p06 p07 p15", "gpu_bench.py", "gpu_check_probes.py",
                   "--workspace problems"):
        assert needed in text
    for name in ("gpu_bench.py", "gpu_check_probes.py"):
        module = runpy.run_path(str(ROOT / "scripts" / name), run_name="imported")
        assert callable(module["main"])


SLEEPING_P07 = (ROOT / "solutions" / "p07_fast_conv.py").read_text() + '''

# Waits in every call (as a learner waiting for a helper process would): no CPU, much wall time.
import time as _time

_conv2d_fast = conv2d_fast


def conv2d_fast(*args, **kwargs):
    _time.sleep(0.3)
    return _conv2d_fast(*args, **kwargs)
'''


def test_waiting_off_cpu_is_timed_by_the_parent_clock(server, tmp_path):
    # Issue 10: the CPU time is believed only as far as the wall clock allows. Waiting 0.3 s per
    # call is far above twice what the call's CPU time and the load explain, on every shape.
    check = _grade_speed_only(server, tmp_path, "p07", SLEEPING_P07)
    assert set(check.details["time_source"].values()) == {"parent clock"}, check.message
    assert "far longer than their CPU time" in check.message


def test_reference_p07_is_timed_by_cpu_time(server, tmp_path):
    check = _grade_speed_only(server, tmp_path, "p07", ROOT / "solutions" / "p07_fast_conv.py")
    assert check.status == "passed", check.message
    assert set(check.details["time_source"].values()) == {"CPU time"}, check.message
    assert "CPU time charged to each worker" in check.message
