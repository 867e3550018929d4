"""CPU time of a worker, read by the parent from the kernel (``/proc``), never from the worker.

Training budgets are budgets of CPU time, not wall time: a busy machine (two submissions graded
at once, a browser) stretches the wall clock of the same work two- or threefold, but the CPU
seconds a process is given for it stay the same. Linux keeps per-process counters that the
process cannot change: ``/proc/<pid>/stat`` fields 14-17 (proc(5)),

* ``utime``, ``stime``: user and system time of every thread of the process, live or exited;
* ``cutime``, ``cstime``: the same for its children that it has waited for (recursively).

A worker calls ``setsid`` before any learner code runs, so everything it starts carries its pid
as the session id until it calls ``setsid`` itself (which the guard and the sandbox fail). The
meter sums the four counters over every live process of that session, and keeps what a process
had accumulated when it vanished without being waited for by another member (reaped by the
grader's subreaper instead), so that a child cannot take its CPU time with it.

Units: seconds. Resolution: one clock tick (``SC_CLK_TCK``, usually 10 ms).

Per timed call (the CPU speed checks) ticks are too coarse; ``sample``/``charged_s`` give
nanoseconds. The learner's worker cannot forge these figures either: the kernel keeps them (``sum_exec_runtime``, in
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

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int, proc: str = "/proc") -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and
    parentheses: split after the last ")"), or None when the process is gone."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return raw.rsplit(b")", 1)[1].split() if b")" in raw else None


def process_cpu(pid: int) -> tuple[float, float] | None:
    """(own CPU seconds over all threads, CPU seconds of waited-for children) of ``pid``, or None
    when it is gone. Fields after ")" start at field 3 (state): utime is field 14, so index 11."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 15:
        return None
    own = (int(fields[11]) + int(fields[12])) / _TICK
    children = (int(fields[13]) + int(fields[14])) / _TICK
    return own, children


def _session_members(sid: int) -> list[int]:
    members = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return [sid]
    for name in names:
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        # index 3 is the session id (field 6)
        if fields is not None and len(fields) > 3 and fields[3] == str(sid).encode():
            members.append(int(name))
    return members


class CpuMeter:
    """Cumulative CPU seconds of a worker and of every process in its session.

    ``read()`` never goes down. Call it often (the parent polls it while it waits for a reply)
    so that a short-lived process is seen before it vanishes; one that lived less than a poll
    interval and was reaped outside the session is not counted (the guard fails child processes,
    and the sandbox stops a worker from starting programs, so this is a narrow gap).
    """

    def __init__(self, pid: int):
        self.pid = pid
        self._seen: dict[int, tuple[float, float]] = {}  # pid -> (own, children) at last read
        self._lost = 0.0  # CPU of members that vanished without being waited for in the session
        self._total = 0.0

    def read(self) -> float:
        current: dict[int, tuple[float, float]] = {}
        for pid in set(_session_members(self.pid)) | {self.pid}:
            times = process_cpu(pid)
            if times is not None:
                current[pid] = times
        vanished = sum(sum(t) for pid, t in self._seen.items() if pid not in current)
        # What the still-live members gained in waited-for children's time accounts for the
        # members they reaped; the rest of what vanished was reaped elsewhere: keep it.
        reaped_here = sum(max(0.0, t[1] - self._seen[pid][1]) for pid, t in current.items() if pid in self._seen)
        self._lost += max(0.0, vanished - reaped_here)
        self._seen = current
        self._total = max(self._total, sum(sum(t) for t in current.values()) + self._lost)
        return self._total


# -- per timed call, nanoseconds (the CPU speed checks) ------------------------------------------
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
    fields = _stat_fields(pid, proc)
    ticks = int(fields[11]) + int(fields[12]) if fields is not None and len(fields) > 12 else None
    process_ns = None
    if clock:
        try:
            process_ns = time.clock_gettime_ns(process_clock_id(pid))
        except OSError:
            pass
    return CpuSample(threads, process_ns, ticks)


def charged_s(before: CpuSample, after: CpuSample, ticks_per_s: int = _TICK) -> float:
    """Seconds of CPU the process got between two samples: the largest of the three lower bounds
    (module docstring), never below zero."""
    threads = sum(ns - before.threads.get(tid, 0) for tid, ns in after.threads.items()) / 1e9
    bounds = [threads, 0.0]
    if before.process_ns is not None and after.process_ns is not None:
        bounds.append((after.process_ns - before.process_ns) / 1e9)
    if before.ticks is not None and after.ticks is not None:
        bounds.append((after.ticks - before.ticks - 2) / ticks_per_s)
    return max(bounds)
