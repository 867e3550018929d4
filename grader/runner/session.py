"""Parent side of the runner: start the fork server, spawn workers, talk to them with deadlines,
capture their output, and clean up whatever they leave behind."""

from __future__ import annotations

import json
import os
import pickle
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

# plain (and with it torch) is imported only when a reply is read: the CLI starts the fork
# server first, so that the server's torch import overlaps with this process's own.
from grader.runner import limits, sandbox
from grader.runner.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge

OUTPUT_CAP = 64 * 1024  # bytes of learner output kept (head and tail)
# What of the grader's environment reaches the fork server and so every worker: an allowlist, so
# that a CI secret under any name (a cloud key, a Gradescope token) never reaches learner code,
# which could print it into a report (red-team pass, 2026-11-30). Locale, paths, the Python and
# library settings the learner's torch/Triton honour, and the grader's own switches.
_ENV_KEEP = re.compile(r"(PATH|HOME|USER|LOGNAME|SHELL|TERM|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|"
                       r"VIRTUAL_ENV|LD_LIBRARY_PATH|PYTHON(PATH|HOME|HASHSEED|UNBUFFERED|WARNINGS|IOENCODING)|"
                       r"(CUDA|NVIDIA|TORCH|TORCHINDUCTOR|TRITON|OMP|MKL|KMP|OPENBLAS|XDG|PYENV)_[A-Z0-9_]+|"
                       r"CONVKATA_[A-Z0-9_]+)")
_ENV_DROP = frozenset({"CONVKATA_SEED"})  # the seed travels over the channel, never in a worker


def worker_environment(parent: dict) -> dict:
    """The environment the fork server (and so every worker) starts with: ``parent`` filtered to
    ``_ENV_KEEP``, less ``_ENV_DROP``."""
    return {k: v for k, v in parent.items() if _ENV_KEEP.fullmatch(k) and k not in _ENV_DROP}


class WorkerGone(Exception):
    """The worker died, exited or closed its socket before answering."""


class WorkerTimeout(Exception):
    """The worker did not answer before the problem's deadline."""


class BadReply(Exception):
    """The worker answered with something that is not plain data."""


@dataclass
class Reply:
    status: str  # ok | raised | not_implemented
    value: object = None
    args_after: object = None
    banned: dict = field(default_factory=dict)
    tamper: list = field(default_factory=list)
    exc_type: str = ""
    message: str = ""
    traceback: str = ""
    seconds: float = 0.0


class _OutputDrain(threading.Thread):
    """Reads a worker's stdout/stderr pipe to the end, keeping only a head and a tail, so a
    chatty learner neither deadlocks on a full pipe nor fills the parent's memory."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd = fd
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def run(self):
        keep_head, keep_tail = OUTPUT_CAP // 2, OUTPUT_CAP // 2
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = keep_head - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[:-keep_tail]
        os.close(self.fd)

    def text(self) -> str:
        dropped = self.total - len(self.head) - len(self.tail)
        body = bytes(self.head)
        if dropped > 0:
            body += f"\n[truncated {dropped} bytes]\n".encode()
        body += bytes(self.tail)
        return body.decode("utf-8", errors="replace")


class ForkServer:
    """One preloaded server per grading stream; its token marks every process it ever forks."""

    def __init__(self):
        self._old_tokens: list[str] = []  # of servers that died (a learner may kill its parent)
        self._start()

    def _start(self):
        self.token = secrets.token_hex(8)
        parent_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(worker_environment(os.environ), **{limits.TOKEN_ENV: self.token})
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.runner.forkserver", str(server_end.fileno())],
            pass_fds=[server_end.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=None, start_new_session=True)
        server_end.close()
        self.control = parent_end
        self._answered = False
        self._lock = threading.Lock()

    # The first answer waits for the server's torch import; later ones take milliseconds unless a
    # learner stopped the server (SIGSTOP from a worker: same user), which must not hang the grader.
    FIRST_ANSWER_S = 180.0
    ANSWER_S = 15.0

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        with self._lock:
            self.control.settimeout(self.ANSWER_S if self._answered else self.FIRST_ANSWER_S)
            try:
                socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
                answer = self.control.recv(1 << 16)
            except (socket.timeout, OSError) as exc:
                self._kill_server()  # the next spawn starts a fresh one
                raise RuntimeError(f"the grader's fork server did not answer ({exc})") from None
        if not answer:
            self._kill_server()
            raise RuntimeError("the grader's fork server stopped")
        self._answered = True
        return json.loads(answer)

    def _kill_server(self):
        for target in (lambda: os.killpg(self.process.pid, signal.SIGKILL),
                       lambda: self.process.kill()):
            try:
                target()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def _restart_if_dead(self):
        """A worker can kill the fork server (same user). Start a fresh one, so that one hostile
        submission does not take the problems and submissions after it down too."""
        if self.process.poll() is None:
            return
        self.sweep()
        self._old_tokens.append(self.token)
        try:
            self.control.close()
        except OSError:
            pass
        self._start()

    def spawn(self, config: dict) -> "Worker":
        scratch = None
        if config.get("sandbox") and config.get("module_path"):
            # the learner's private TMPDIR and HOME, the only place it may write; gone with it
            scratch = sandbox.make_scratch()
            config = dict(config, scratch=scratch)
        else:
            config = dict(config, sandbox=False)
        try:
            worker = self._spawn(config)
        except BaseException:
            sandbox.remove_scratch(scratch)
            raise
        worker.scratch = scratch
        return worker

    def _spawn(self, config: dict) -> "Worker":
        for attempt in (1, 2):  # a server a learner killed or stopped is replaced once
            self._restart_if_dead()
            parent_sock, child_sock = socket.socketpair()
            read_fd, write_fd = os.pipe()
            try:
                pid = self._ask({"op": "spawn", "config": config}, [child_sock.fileno(), write_fd])["pid"]
            except RuntimeError:
                parent_sock.close()
                os.close(read_fd)
                if attempt == 2:
                    raise
                continue
            finally:
                child_sock.close()
                os.close(write_fd)
            return Worker(self, pid, Channel(parent_sock), _OutputDrain(read_fd))

    def wait_status(self, pid: int):
        return self._ask({"op": "wait", "pid": pid}).get("status")

    def sweep(self) -> int:
        """Kill every process this server ever forked that is still alive."""
        spare = {self.process.pid, os.getpid()}
        killed = sum(limits.sweep(token, spare=spare) for token in self._old_tokens)
        return killed + limits.sweep(self.token, spare=spare, root=self.process.pid)

    def close(self):
        self.sweep()
        try:
            self.control.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def describe_exit(status) -> str:
    if status is None:
        return "the worker exited"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (killed, often for memory)",
                "SIGABRT": " (aborted)", "SIGBUS": " (bus error)"}.get(name, "")
        return f"the worker was killed by {name}{hint}"
    return f"the worker exited with code {os.WEXITSTATUS(status)}"


class Worker:
    def __init__(self, server: ForkServer, pid: int, channel: Channel, drain: _OutputDrain):
        self.server = server
        self.pid = pid
        self.channel = channel
        self.drain = drain
        self.drain.start()
        self.closed = False
        self.exit_description = ""
        self.scratch = None  # the sandboxed worker's private directory, removed when it is killed

    def _alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    def _wait_for_reply(self, deadline: float, watch=None) -> None:
        """Wait until the socket is readable, watching that the worker still lives: a child it
        forked may hold the socket open after the worker died, so EOF alone can come too late.
        ``watch()``, if given, runs every poll (about 0.25 s); whatever it raises kills the
        worker and propagates (a training budget of CPU time is enforced this way)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return  # channel.recv reports the timeout
            if select.select([self.channel.sock], [], [], min(remaining, 0.25))[0]:
                return
            if watch is not None:
                try:
                    watch()
                except BaseException:
                    self.kill()
                    raise
            if not self._alive():
                if select.select([self.channel.sock], [], [], 0)[0]:
                    return  # it answered just before it went
                self.kill()
                raise WorkerGone(f"{self.exit_description} (a process it started kept its socket open)")

    def _receive(self, deadline: float, watch=None) -> dict:
        self._wait_for_reply(deadline, watch)
        try:
            payload = self.channel.recv(deadline)
        except ChannelTimeout:
            self.kill()
            raise WorkerTimeout() from None
        except (ChannelClosed, FrameTooLarge) as exc:
            self.kill()
            reason = self.exit_description
            if isinstance(exc, FrameTooLarge):
                reason = f"{exc}; {reason}"
            raise WorkerGone(reason) from None
        from grader.runner import plain

        try:
            message = plain.decode(payload)
        except Exception as exc:
            self.kill()
            raise BadReply(f"the worker's reply is not plain data ({type(exc).__name__})") from None
        problem = plain.check_shape(message)
        if problem:
            self.kill()
            raise BadReply(f"the worker's reply is {problem}")
        if type(message) is not dict or type(message.get("status")) is not str:
            self.kill()
            raise BadReply("the worker's reply has the wrong shape")
        return message

    def hello(self, deadline: float) -> dict:
        """The worker's first message: ready, or why the learner's file could not be imported
        (only capped strings are kept: it may have been written by the learner's code)."""
        from grader.runner import plain

        raw = self._receive(deadline)
        return {key: plain.text(raw.get(key)) for key in ("status", "phase", "exc_type", "message", "traceback")}

    def request(self, message: dict, deadline: float, watch=None) -> Reply:
        try:
            self.channel.send(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except ChannelClosed:
            self.kill()
            raise WorkerGone(self.exit_description) from None
        raw = self._receive(deadline, watch)
        from grader.runner import plain

        findings = raw.get("findings") if type(raw.get("findings")) is dict else {}
        banned = findings.get("banned") if type(findings.get("banned")) is dict else {}
        tamper = findings.get("tamper") if type(findings.get("tamper")) is list else []
        seconds = raw.get("seconds")
        return Reply(
            status=raw["status"], value=raw.get("value"), args_after=raw.get("args_after"),
            banned={plain.text(k, 200): plain.text(v, 500) for k, v in list(banned.items())[:50]},
            tamper=[plain.text(t, 500) for t in tamper[:20]],
            exc_type=plain.text(raw.get("exc_type"), 200), message=plain.text(raw.get("message")),
            traceback=plain.text(raw.get("traceback")),
            seconds=float(seconds) if type(seconds) in (int, float) else 0.0)

    def kill(self):
        """Kill the worker's process group and collect how it ended. Idempotent."""
        if self.closed:
            return
        self.closed = True
        limits.kill_group(self.pid)
        try:
            self.exit_description = describe_exit(self.server.wait_status(self.pid))
        except Exception:
            self.exit_description = "the worker stopped"
        self.channel.close()
        sandbox.remove_scratch(self.scratch)

    def finish(self) -> None:
        """Say goodbye and stop the worker's process group (its strays: ``ForkServer.sweep``)."""
        if not self.closed:
            try:
                self.channel.send(pickle.dumps({"op": "bye"}))
            except ChannelClosed:
                pass
            # A polite worker exits at once; give it a moment before the group is killed.
            deadline = time.monotonic() + 0.5
            try:
                self.channel.recv(deadline)
            except (ChannelClosed, ChannelTimeout, FrameTooLarge):
                pass
            self.kill()

    def output(self) -> str:
        """The captured stdout/stderr; call after the sweep so no stray holds the pipe open."""
        self.drain.join(timeout=2)
        return self.drain.text()
