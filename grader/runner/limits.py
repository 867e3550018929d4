"""Resource limits applied inside a worker, and clean-up of everything a worker left behind."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import time

TOKEN_ENV = "CONVKATA_RUN_TOKEN"
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the other limits still hold
        pass


def _virtual_memory_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def become_subreaper() -> None:
    """The fork server adopts every orphan below it, so the sweep can find them by parentage."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _status_bytes(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def apply_worker_limits(memory_mb: int, kind: str = "as") -> None:
    """Called in a fresh worker before any learner code is imported.

    ``kind`` "as": RLIMIT_AS (address space), for CPU workers. "data": RLIMIT_DATA, for CUDA
    workers: the CUDA driver reserves tens of GiB of address space (PROT_NONE, so not counted as
    data) and maps device memory shared, so RLIMIT_AS would stop CUDA starting while RLIMIT_DATA
    (private writable memory, Linux >= 4.7) still caps what the learner allocates on the host.
    Either way the allowance comes on top of what torch already holds."""
    os.setsid()  # own session and process group: the parent kills the whole group
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the server dies -> the worker dies
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # orphans of the learner's children stay below us
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb > 0 and kind == "data":
        limit = _status_bytes("VmData") + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    elif memory_mb > 0:
        # torch maps a lot of address space at import; the allowance comes on top of that.
        limit = _virtual_memory_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _token_holders(token: str, spare: set[int]) -> list[int]:
    """Processes whose environment carries this run's token: every descendant of the fork
    server, even one that started a new session to escape its process group."""
    needle = f"{TOKEN_ENV}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in spare:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def _descendants(root: int, spare: set[int]) -> list[int]:
    """Living processes below ``root`` (by parent pid). The fork server is a child subreaper, so
    whatever a worker leaves behind is re-parented to it, however it detached itself (setsid,
    double fork, an exec with an empty environment that drops the token)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] in ("Z", "X"):  # already dead, waiting to be reaped
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in spare:
            continue  # spared with everything below it
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def sweep(token: str, spare: set[int], rounds: int = 20, root: int | None = None) -> int:
    """Kill every process carrying ``token``, and every descendant of ``root``, except ``spare``;
    repeat until none is left (a fork bomb keeps forking between two scans, so stop them first,
    then kill). Returns how many."""
    def targets():
        pids = set(_token_holders(token, spare))
        if root is not None:
            pids.update(_descendants(root, spare))
        return pids

    return _stop_then_kill(targets, rounds)


def _stop_then_kill(targets, rounds: int = 20, empty_scans: int = 1) -> int:
    """Until ``targets()`` is empty (at most ``rounds`` scans): SIGSTOP every pid, then SIGKILL
    them, so a fork bomb cannot fork faster than it is killed. ``empty_scans``: how many empty
    scans in a row end it (a process being re-parented or exec'd can be missed by one scan).
    Returns how many were killed."""
    killed, empty = 0, 0
    for _ in range(rounds):
        pids = targets()
        if not pids:
            empty += 1
            if empty >= empty_scans:
                break
            time.sleep(0.02)
            continue
        empty = 0
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        killed += len(pids)
        time.sleep(0.01)
    return killed


def adopt_orphans() -> None:
    """For the grader's own command-line process: become a subreaper, so that a learner's
    process that escapes everything else (kills the fork server, calls setsid, execs with an
    empty environment) is re-parented here rather than to init, where ``kill_descendants``
    finds it before the grader exits and before any report could be rewritten behind its back."""
    become_subreaper()


def kill_descendants(root: int, keep: int | None = None) -> int:
    """Stop, then kill, every living process below ``root`` (not ``root`` itself, nor ``keep``
    and what is below it), repeatedly until none is left; then reap what became our zombies.
    Returns how many were killed."""
    spare = {root} if keep is None else {root, keep}
    killed = _stop_then_kill(lambda: _descendants(root, spare), empty_scans=3)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    return killed
