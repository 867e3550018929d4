"""CPU time the kernel charged to a worker process, read by the parent (trusted).

The learner's worker cannot forge these figures: the kernel keeps them (``sum_exec_runtime``, in
nanoseconds, per thread and per thread group) and the parent reads them from outside the worker.
Three readings, each a lower bound of the CPU time the whole process got between two samples:

- ``threads_ns``: per thread, the first field of ``/proc/<pid>/task/<tid>/schedstat`` (run time,
  ns; ``Documentation/scheduler/sched-stats.rst``), summed over the threads alive at the second
  sample (a thread born in between counts from zero). Misses a thread that exited in between.
- ``process_ns``: the process CPU-time clock (``clock_gettime`` on ``MAKE_PROCESS_CPUCLOCK(pid,
  CPUCLOCK_SCHED)``, what ``clock_getcpuclockid(3)`` returns; Linux lets any process read it):
  the thread group's run time in ns, *including threads that have exited* (the kernel moves their
  time into the group's ``signal->sum_sched_runtime``).
- ``ticks``: utime + stime of ``/proc/<pid>/stat`` (fields 14 and 15, clock ticks): also includes
  exited threads; scaled by the kernel to the group's run time and truncated to ticks, so the
  difference of two readings is within two ticks of the truth and is used minus two ticks.

``charged_s`` takes the largest lower bound: work hidden in a thread that ends inside the timed
call still counts. Children are not counted (the guard and the sandbox forbid them in a worker).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CPUCLOCK_SCHED = 2  # include/linux/posix-timers.h: the process clock that counts run time in ns


@dataclass(frozen=True)
class CpuSample:
    threads: dict = field(default_factory=dict)  # tid -> run time (ns) of each live thread
    process_ns: int | None = None  # the process CPU-time clock, None where it could not be read
    ticks: int | None = None  # utime + stime (clock ticks), None where unreadable


def process_clock_id(pid: int) -> int:
    """``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)`` (include/linux/posix-timers_types.h)."""
    return ((~pid) << 3) | CPUCLOCK_SCHED


def sample(pid: int, proc: str = "/proc", clock: bool = True) -> CpuSample:
    """The CPU time of process ``pid`` so far: per-thread run times, the process clock, ticks.

    ``proc``: where procfs is (a fake tree in tests; ``clock=False`` then, since the clock reads
    the real process). Raises ProcessLookupError when the process is gone."""
    threads = {}
    task = os.path.join(proc, str(pid), "task")
    try:
        tids = os.listdir(task)
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    for tid in tids:
        try:
            with open(os.path.join(task, tid, "schedstat")) as f:
                threads[int(tid)] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # the thread exited between listdir and open: the process clock has its time
    ticks = None
    try:
        with open(os.path.join(proc, str(pid), "stat")) as f:
            # comm (field 2) may hold spaces and parentheses: split after the last ")"
            fields = f.read().rpartition(")")[2].split()
        ticks = int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted from 3
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        pass
    process_ns = None
    if clock:
        try:
            process_ns = time.clock_gettime_ns(process_clock_id(pid))
        except OSError:
            pass
    return CpuSample(threads, process_ns, ticks)


def charged_s(before: CpuSample, after: CpuSample, ticks_per_s: int = CLOCK_TICKS) -> float:
    """Seconds of CPU the process got between two samples: the largest of the three lower bounds
    (module docstring), never below zero."""
    threads = sum(ns - before.threads.get(tid, 0) for tid, ns in after.threads.items()) / 1e9
    bounds = [threads, 0.0]
    if before.process_ns is not None and after.process_ns is not None:
        bounds.append((after.process_ns - before.process_ns) / 1e9)
    if before.ticks is not None and after.ticks is not None:
        bounds.append((after.ticks - before.ticks - 2) / ticks_per_s)
    return max(bounds)
