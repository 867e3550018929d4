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
"""

from __future__ import annotations

import os

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
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
