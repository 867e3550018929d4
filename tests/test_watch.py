"""`grader watch`: real file changes in a temp workspace (in place, by rename, bursts), the
content-hash skip, keys, polling, and one real session that grades p01 when it is saved."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, shipped_stub
from grader import registry, settings, state, watch
from grader.results import CheckResult, ProblemResult

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")


def save_in_place(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def save_by_rename(path: Path, text: str) -> None:
    """What vim (backupcopy=no) and many IDEs do: write a new file, rename it over the old one."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


@pytest.fixture(params=["inotify", "poll"])
def watcher(request, tmp_path):
    made = watch.PollWatcher(tmp_path) if request.param == "poll" else watch.InotifyWatcher(tmp_path)
    yield made
    made.close()


def next_event(stream, limit_s: float = 5.0) -> watch.Event:
    start = time.monotonic()
    for event in stream:
        if event.kind != "idle" or time.monotonic() - start > limit_s:
            return event
    raise AssertionError("the event stream ended")


def test_watcher_sees_in_place_rename_and_create(watcher, tmp_path):
    target = tmp_path / "p01_conv2d_naive.py"
    target.write_text("v1\n")
    watcher.read()  # forget the setup
    stream = watch.events(watcher, debounce_s=0.05, poll_s=0.05, idle_s=0.05)
    save_in_place(target, "v2\n")
    assert "p01_conv2d_naive.py" in next_event(stream).names
    save_by_rename(target, "v3\n")
    assert "p01_conv2d_naive.py" in next_event(stream).names
    (tmp_path / "p03_conv_arithmetic.py").write_text("new\n")
    assert "p03_conv_arithmetic.py" in next_event(stream).names


def test_a_burst_of_writes_is_one_event(tmp_path):
    target = tmp_path / "p01_conv2d_naive.py"
    target.write_text("")
    watcher = watch.InotifyWatcher(tmp_path)
    try:
        for i in range(5):  # an editor that truncates, then writes in pieces
            with open(target, "a") as f:
                f.write(f"line {i}\n")
        stream = watch.events(watcher, debounce_s=0.05, idle_s=0.05)
        first = next_event(stream)
        assert first.names == {"p01_conv2d_naive.py"}
        assert next(stream).kind == "idle"  # nothing left over from the burst
    finally:
        watcher.close()


def _fake_result(spec, status: str) -> ProblemResult:
    check = CheckResult(name="c", kind="correctness", status=status, score=int(status == "passed"),
                        max_score=1, message="" if status == "passed" else "expected 1, got 2")
    return ProblemResult(id=spec.id, name=spec.name, question=spec.question, status=status, checks=[check])


def test_session_regrades_on_changed_content_only(tmp_path):
    problems = list(registry.PROBLEMS)
    first, second = problems[0], problems[1]
    target = tmp_path / first.filename
    target.write_text("FAIL 1\n")
    graded, screens = [], []

    def grade(spec):
        text = (tmp_path / spec.filename).read_text() if (tmp_path / spec.filename).exists() else ""
        graded.append((spec.id, text))
        return _fake_result(spec, "passed" if text.startswith("PASS") else "failed")

    session = watch.WatchSession(tmp_path, problems, first, grade,
                                 lambda s, r, note, done: screens.append((r and r.id, note, done and done.id)))
    read_keys, send_keys = os.pipe()
    watcher = watch.InotifyWatcher(tmp_path)
    try:
        stream = watch.events(watcher, read_keys, debounce_s=0.05, idle_s=0.05)
        session.run_current()
        assert graded == [(first.id, "FAIL 1\n")]

        save_in_place(target, "FAIL 1\n")  # saved without a change: no re-grade
        assert session.handle(next_event(stream)) is None
        save_by_rename(target, "FAIL 2\n")
        assert session.handle(next_event(stream)).status == "failed"
        assert graded[-1] == (first.id, "FAIL 2\n")

        os.write(send_keys, b"r")  # a re-run by hand grades even an unchanged file
        assert session.handle(next_event(stream)).status == "failed"
        assert len(graded) == 3

        save_by_rename(target, "PASS\n")
        assert session.handle(next_event(stream)).status == "passed"
        assert session.current.id == second.id  # moved on, and graded the next problem at once
        assert graded[-1][0] == second.id
        assert screens[-1] == (second.id, f"{first.filename} changed", first.id)

        save_in_place(target, "FAIL again\n")  # the previous problem's file no longer matters
        assert session.handle(next_event(stream)) is None
        os.write(send_keys, b"q")
        session.handle(next_event(stream))
        assert session.done
    finally:
        watcher.close()
        os.close(read_keys)
        os.close(send_keys)


def test_keys_are_single_presses_on_a_terminal():
    main, secondary = os.openpty()
    stream = os.fdopen(secondary, "rb", buffering=0)
    keys = watch._Keys(stream)
    try:
        os.write(main, b"r")  # no Enter: cbreak mode delivers the key at once
        events = watch.events(watch.PollWatcher(Path("/nonexistent")), keys.fd, poll_s=0.05)
        assert next_event(events) == watch.Event("key", key="r")
    finally:
        keys.close()
        stream.close()
        os.close(main)


def test_watch_grades_p01_when_it_is_saved(tmp_path, capsys):
    """The real thing: a fork server kept for the session, a stub graded first, the solution
    saved by rename, graded, recorded as passed, and the next problem shown."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    spec = registry.find("p01")
    (workspace / spec.filename).write_text(shipped_stub(spec.id))
    solution = (ROOT / "solutions" / spec.filename).read_text()
    stop = threading.Event()

    def editor():  # keeps saving until the watcher has seen it (it may start after the first save)
        for i in range(200):
            if stop.wait(0.3):
                return
            save_by_rename(workspace / spec.filename, solution + f"# save {i}\n")

    thread = threading.Thread(target=editor, daemon=True)
    thread.start()
    try:
        options = settings.build(device="cpu", seed=7, no_speed=True, time_scale=3)
        code = watch.watch("p01", workspace=str(workspace), options=options,
                           stop_when=lambda session: "p01" in session.passed)
    finally:
        stop.set()
        thread.join()
    out = capsys.readouterr().out
    assert code == 1  # stopped with problems left
    assert state.statuses(workspace.resolve())["p01"]["status"] == "passed"
    assert "grader solution p01" in out and f"Next: {registry.PROBLEMS[1].id}" in out
    assert "re-run" in out  # the keys are printed on screen
