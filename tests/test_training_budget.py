"""The CPU-time budget of the training problems, on plain numbers, and the parent's CPU meter.

No timed assertions: the meter is checked against CPU time a child reports spending, with the
clock-tick resolution as the only tolerance, however long that takes on the wall clock.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.checks import training
from grader.checks.verdict import Fail
from grader.runner.cputime import CpuMeter, process_cpu


def test_one_budget_on_plain_numbers():
    budget = training.Budget(total_s=12.0, reserve_s=1.5, grace_s=1.2)
    # training is offered what import and build_model left, less the reserve for predict
    assert budget.train_allowance(0.3) == pytest.approx(10.2)
    assert budget.train_allowance(11.0) < 0  # import used the budget: nothing left to train
    assert budget.train_limit_s == pytest.approx(11.7)  # the cumulative CPU at which training is stopped
    assert budget.total_limit_s == pytest.approx(13.2)  # ... and prediction
    # the wall clock is only an outer stop, several times the CPU allowance
    assert budget.wall_limit_s(10.2, 1.0) == pytest.approx(training.WALL_FACTOR * 10.2 + training.WALL_SLACK_S)
    assert budget.wall_limit_s(10.2, 1.0) >= 4 * 10.2


def test_budget_scales_with_time_scale():
    task = training.TrainingTask(build_args=(), train_entry="train_model", train_images=None, train_labels=None,
                                 test_images=None, test_labels=None, num_classes=10, budget_s=12.0,
                                 threshold=0.9, data="subset", description="d", predict_reserve_s=1.5)
    budget = training.Budget.for_task(task, 2.0)
    assert (budget.total_s, budget.reserve_s, budget.grace_s) == pytest.approx((24.0, 3.0, 2.4))
    assert training.grace_s(5.0) == 1.0 and training.grace_s(40.0) == 4.0


class _FakeMeter:
    def __init__(self, values):
        self.values = list(values)

    def read(self):
        return self.values.pop(0)


def test_watch_stops_only_past_the_limit():
    task = training.TrainingTask(build_args=(), train_entry="fit", train_images=None, train_labels=None,
                                 test_images=None, test_labels=None, num_classes=10, budget_s=20.0,
                                 threshold=0.3, data="procedural", description="shapes")
    run = training._Run(task)
    run.meter = _FakeMeter([5.0, 19.9, 20.01])
    watch = training._stop_when_over(run, 19.9, "fit()", "its budget")
    watch()
    watch()  # at the limit: still running
    with pytest.raises(Fail, match=r"fit\(\) was still running when your code had used 20.0 s of CPU time") as failed:
        watch()
    assert failed.value.figures["unit"] == "s" and "time.process_time()" in failed.value.message


def test_held_out_seed_depends_on_a_secret():
    assert training.held_out_seed(1234, 1) != training.held_out_seed(1234, 2)
    assert training.held_out_seed(1234, 1) == training.held_out_seed(1234, 1)


_BURNER = r"""
import os, sys, threading, time
def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
threads = [threading.Thread(target=burn, args=(0.3,)) for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
pid = os.fork()
if pid == 0:
    burn(0.3)
    os._exit(0)
os.waitpid(pid, 0)
print(time.process_time(), flush=True)   # own threads only; the child's time is in cutime
sys.stdin.readline()
"""


def test_meter_counts_all_threads_and_waited_children():
    child = subprocess.Popen([sys.executable, "-c", _BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        own = float(child.stdout.readline())
        meter = CpuMeter(child.pid)
        used = meter.read()
        assert own >= 0.6 - 0.02  # two threads of 0.3 s each
        # the meter adds the waited-for child's 0.3 s to the process's own time (10 ms ticks)
        assert used >= own + 0.3 - 0.05
        assert meter.read() >= used  # never goes down
        assert process_cpu(child.pid)[1] >= 0.25
    finally:
        child.stdin.close()
        child.wait()
    assert process_cpu(child.pid) is None
    assert meter.read() >= used  # the process is gone; what it used stays counted


def test_meter_keeps_a_member_reaped_elsewhere():
    """A session member that vanishes without its parent in the session waiting for it (it was
    reaped by someone else) keeps counting with what it had used when last seen."""
    meter = CpuMeter(10 ** 9)  # no such process: drive it with fake readings
    meter._seen = {10 ** 9: (1.0, 0.0), 4242: (2.0, 0.0)}
    meter._lost = 0.0
    import grader.runner.cputime as cputime

    original_members, original_cpu = cputime._session_members, cputime.process_cpu
    cputime._session_members = lambda sid: [sid]
    cputime.process_cpu = lambda pid: (1.5, 0.0) if pid == 10 ** 9 else None
    try:
        assert meter.read() == pytest.approx(3.5)  # 1.5 own + 2.0 of the member that vanished
    finally:
        cputime._session_members, cputime.process_cpu = original_members, original_cpu
