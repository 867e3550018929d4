"""`grader watch`: re-grade the current problem every time its file is saved.

Editors save in different ways: some write the file in place (modify, close-write), vim and many
IDEs write a new file and rename it over the old one (create/moved-to; the old inode is gone), so
the *directory* is watched, not the file. Linux's inotify is used through ctypes (no dependency);
elsewhere, or with --poll, the directory is polled (mtime and size). A burst of events is
debounced, and a re-grade only happens when the file's content hash changed. One fork server
stays alive for the whole session, so each re-grade starts a worker in milliseconds.

The pieces are small and testable on their own: ``InotifyWatcher``/``PollWatcher`` report changed
names, ``events()`` merges them with key presses into a stream, ``WatchSession.handle()`` acts on
one event, and ``watch()`` wires them to a terminal.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import select
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from grader.results import ProblemResult, RunResult
from grader.spec import ProblemSpec

# inotify(7) event bits
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
_WATCH_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name

HASH_LIMIT = 1 << 20  # polling hashes files up to 1 MiB (learner files are a few KiB)
KEYS_HELP = "[Enter]/r re-run   h hint   n next problem   q quit"


class InotifyWatcher:
    """Names of files in ``directory`` that were created, written, moved in or out, or deleted."""

    def __init__(self, directory: Path):
        libc_name = ctypes.util.find_library("c") or "libc.so.6"
        libc = ctypes.CDLL(libc_name, use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(self.fd, os.fsencode(directory), _WATCH_MASK) < 0:
            errno = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(errno, f"inotify_add_watch failed for {directory}")

    def fileno(self) -> int:
        return self.fd

    def read(self) -> set[str]:
        """Drain pending events (non-blocking); the names they concern."""
        names: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return names
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size: offset + _EVENT.size + length]
                offset += _EVENT.size + length
                name = os.fsdecode(raw.rstrip(b"\0"))
                if name:
                    names.add(name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class PollWatcher:
    """The --poll fallback: compare (mtime, size, inode, content hash) of every file between
    calls. The hash catches a same-size save within the file system's timestamp granularity."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._seen = self._scan()

    def _scan(self) -> dict[str, tuple]:
        seen = {}
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return seen
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:
                continue
            small = entry.is_file() and st.st_size <= HASH_LIMIT
            seen[entry.name] = (st.st_mtime_ns, st.st_size, st.st_ino,
                                content_hash(Path(entry.path)) if small else None)
        return seen

    def fileno(self) -> int | None:
        return None

    def read(self) -> set[str]:
        now = self._scan()
        changed = {n for n in now.keys() | self._seen.keys() if now.get(n) != self._seen.get(n)}
        self._seen = now
        return changed

    def close(self) -> None:
        pass


def make_watcher(directory: Path, poll: bool):
    """inotify where it exists, polling otherwise; returns (watcher, description)."""
    if not poll and sys.platform.startswith("linux"):
        try:
            return InotifyWatcher(directory), "inotify"
        except (OSError, AttributeError):
            pass
    return PollWatcher(directory), "polling"


def content_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # mid-rename, or deleted
        return None


@dataclass
class Event:
    kind: str  # "file" (names changed) | "key" (one key) | "idle"
    names: frozenset = frozenset()
    key: str = ""


def events(watcher, key_fd: int | None = None, *, debounce_s: float = 0.1, poll_s: float = 0.25,
           idle_s: float | None = None) -> Iterator[Event]:
    """Changes and key presses as one stream. A burst of file events is gathered until the
    directory is quiet for ``debounce_s`` (an editor's save is several events). With
    ``idle_s``, an ``idle`` event comes after that long without anything (bounded tests)."""
    watch_fd = watcher.fileno()
    last = time.monotonic()
    while True:
        fds = [fd for fd in (watch_fd, key_fd) if fd is not None]
        timeout = poll_s if watch_fd is None else idle_s
        ready, _, _ = select.select(fds, [], [], timeout)
        if key_fd is not None and key_fd in ready:
            try:
                data = os.read(key_fd, 64)
            except OSError:
                data = b""
            if not data:  # stdin closed: stop reading keys, keep watching
                key_fd = None
            for char in data.decode(errors="replace"):
                last = time.monotonic()
                yield Event("key", key=char)
        names = watcher.read()
        if names:
            deadline = time.monotonic() + 1.0  # never wait more than a second for quiet
            while time.monotonic() < deadline:
                if watch_fd is not None:
                    more, _, _ = select.select([watch_fd], [], [], debounce_s)
                    if not more:
                        break
                else:
                    time.sleep(debounce_s)
                fresh = watcher.read()
                if not fresh:
                    break
                names |= fresh
            last = time.monotonic()
            yield Event("file", names=frozenset(names))
        elif idle_s is not None and time.monotonic() - last >= idle_s:
            last = time.monotonic()
            yield Event("idle")


@dataclass
class WatchSession:
    """What the watcher does with each event. ``grade(spec)`` returns a ProblemResult;
    ``show(session, result, note, just_passed)`` redraws the screen."""

    workspace: Path
    problems: list[ProblemSpec]
    current: ProblemSpec
    grade: Callable[[ProblemSpec], ProblemResult]
    show: Callable[["WatchSession", ProblemResult | None, str, ProblemResult | None], None]
    passed: set = field(default_factory=set)
    graded_hash: dict = field(default_factory=dict)  # problem id -> hash of the file last graded
    runs: int = 0
    done: bool = False

    @property
    def path(self) -> Path:
        return self.workspace / self.current.filename

    def run_current(self, note: str = "") -> ProblemResult:
        """Grade the current problem; when it passes, move on and grade the next one too."""
        self.graded_hash[self.current.id] = content_hash(self.path)
        result = self.grade(self.current)
        self.runs += 1
        if result.status != "passed":
            self.show(self, result, note, None)
            return result
        self.passed.add(self.current.id)
        following = self.next_unsolved()
        if following is None:
            self.done = True
            self.show(self, result, note, result)
            return result
        self.current = following
        self.graded_hash[following.id] = content_hash(self.path)
        upcoming = self.grade(following)
        self.runs += 1
        self.show(self, upcoming, note, result)
        return result

    def next_unsolved(self) -> ProblemSpec | None:
        ids = [s.id for s in self.problems]
        start = ids.index(self.current.id) + 1
        for spec in self.problems[start:] + self.problems[:start]:
            if spec.id not in self.passed:
                return spec
        return None

    def handle(self, event: Event) -> ProblemResult | None:
        """Act on one event; the result when something was graded, else None."""
        if event.kind == "key":
            key = event.key.lower()
            if key in ("q", "\x04"):
                self.done = True
            elif key in ("r", "\n", "\r"):
                return self.run_current("re-run by hand")
            elif key == "n":
                following = self.next_unsolved()
                if following is not None and following.id != self.current.id:
                    self.current = following
                    return self.run_current("skipped ahead")
            elif key == "h":
                self.show(self, None, "hint", None)
            return None
        if event.kind == "file" and self.current.filename in event.names:
            digest = content_hash(self.path)
            if digest is None or digest == self.graded_hash.get(self.current.id):
                return None  # saved without changes, or mid-rename: nothing to grade
            return self.run_current(f"{self.current.filename} changed")
        return None


def first_unsolved(problems: list[ProblemSpec], statuses: dict) -> ProblemSpec:
    """The first problem not passed as the files are now (``state.progress``)."""
    for spec in problems:
        if statuses.get(spec.id, {}).get("status") != "passed":
            return spec
    return problems[-1]


class _Keys:
    """Single key presses from a terminal (cbreak mode, restored on exit); lines otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.fd, self._saved = None, None
        try:
            self.fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return
        if os.isatty(self.fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def close(self):
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


def _screen(console, hint_levels: dict):
    from rich.markup import escape

    from grader.report import terminal

    def show(session: WatchSession, result: ProblemResult | None, note: str,
             just_passed: ProblemResult | None) -> None:
        spec = session.current
        if note == "hint":  # printed below the result, one level more each time
            level = hint_levels.get(spec.id, 0) + 1
            if level <= 3:
                hint_levels[spec.id] = level
                console.print(f"[cyan]Hint {level}:[/] {escape(spec.hints[level - 1])}")
            return
        console.clear()
        when = time.strftime("%H:%M:%S")
        console.print(f"[bold]grader watch[/] [dim]{session.workspace} - {when}"
                      + (f" - {escape(note)}" if note else "") + "[/]")
        if just_passed is not None:
            console.print(terminal.problem_line(just_passed))
            console.print(f"[green]Well done![/] Model answer: [bold]grader solution {just_passed.id}[/]")
            if session.done:
                console.print("[green]Every problem in this workspace has passed.[/]")
                return
            console.print(f"\n[bold]Next: {spec.id} {escape(spec.title)}[/]")
        if result is not None:
            console.print(terminal.problem_line(result, verbose=result.status not in ("not_started", "passed")))
        console.print(f"\nEditing [bold]{spec.filename}[/]: {escape(spec.title)}  "
                      f"[dim]Q{spec.question}: {escape(spec.question_text)}[/]")
        console.print(f"[dim]Save the file to re-grade.  {KEYS_HELP}[/]")

    return show


def watch(problem_id: str | None = None, *, workspace: str | None = None, poll: bool = False,
          options=None, max_events: int | None = None,
          stop_when: Callable[["WatchSession"], bool] | None = None) -> int:
    """The `grader watch` command: returns an exit code (0 when everything passed). ``options``
    are the run settings (``grader.settings.build``), as for `grader run`. ``max_events`` and
    ``stop_when(session)`` bound the loop (tests). Raises ValueError for a device torch lacks."""
    from grader import catalog, grading, registry, settings, state
    from grader import workspace as ws
    from grader.report import terminal
    from grader.runner.session import ForkServer

    path = ws.resolve(workspace, False)
    problems = list(registry.PROBLEMS)
    now = state.progress(path, catalog.entries())
    current = registry.find(problem_id) if problem_id else first_unsolved(problems, now)
    options = settings.resolve_device(options or settings.build())
    console = terminal.console()
    server = ForkServer()  # one for the whole session: every re-grade forks a preloaded worker
    record = Path(path).resolve() != ws.solutions_dir().resolve()

    def grade(spec: ProblemSpec) -> ProblemResult:
        console.print(f"[dim]grading {spec.id}...[/]")
        result = grading.grade_problem(spec, path, options, server)
        if record:
            state.record(RunResult(problems=[result], device=options.device, seed=options.seed,
                                   workspace=str(path)))
        return result

    passed = {pid for pid, entry in now.items() if entry["status"] == "passed"}
    session = WatchSession(path, problems, current, grade, _screen(console, {}), passed=passed)
    watcher, how = make_watcher(path, poll)
    keys = _Keys()
    try:
        console.print(f"[dim]Watching {path} ({how}), seed {options.seed}...[/]")
        session.run_current()
        count = 0
        for event in events(watcher, keys.fd):
            session.handle(event)
            count += 1
            if session.done or (max_events is not None and count >= max_events) \
                    or (stop_when is not None and stop_when(session)):
                break
    except KeyboardInterrupt:
        pass
    finally:
        keys.close()
        watcher.close()
        server.close()
    return 0 if session.done and not session.next_unsolved() else 1
