"""Names forbidden PyTorch calls while learner code runs (inside the worker).

Containment is not done here: ``intercept.py`` registers refusing kernels for every banned op
process-wide before the learner's import, so a forbidden kernel computes nothing from any thread
or path. The signals below run in the calling thread; they name the op as the learner wrote it
(``aten::conv2d`` rather than the leaf kernel) and report tampering. Two of them, so that
switching one off does not hide a forbidden call:

1. A ``TorchDispatchMode`` sees every aten op that reaches the dispatcher, however it was
   reached (``F.conv2d``, ``nn.Conv2d``, ``torch.ops.aten.convolution``, a C++ composite...).
2. A ``sys.setprofile`` hook sees every call from Python into a C function by name
   (``torch.conv2d``, ``torch._C._nn.im2col``...), and also calls that switch detection off
   (disabling Python dispatch, popping modes, replacing the profile hook). It follows new
   threads through ``threading.setprofile``.

A third signal backs them up: an audit hook (``sys.addaudithook``, which cannot be removed once
added) reports any use of ctypes, ``sys.setprofile``/``settrace`` (also when reached from C through
``ctypes.pythonapi.PyEval_SetProfile``, which the profile hook cannot see) and writes to
``/proc/self/mem`` while a guarded stretch of learner code runs.

All three run in the learner's own process, so they are evidence, not proof; the verdict itself is
still computed by the parent from the returned values, and the refusal is ``intercept``'s.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Calls that switch detection off: any of them from learner code is reported as tampering.
TAMPER_CALLS = frozenset({
    "setprofile", "settrace", "_DisableTorchDispatch", "_unset_dispatch_mode",
    "_pop_torch_dispatch_stack", "_set_dispatch_mode", "_disable_current_modes",
    "_push_on_torch_dispatch_stack", "_DisablePythonDispatcher", "_RestorePythonTLSSnapshot",
    "_ExcludeDispatchKeyGuard", "_ForceDispatchKeyGuard", "_set_dispatch_tls_local_exclude_set",
    "_dispatch_tls_set_dispatch_key_excluded",
})


# Audit events that switch detection off or reach under it (ctypes can do either).
AUDIT_TAMPER = frozenset({"sys.setprofile", "sys.settrace", "sys._setprofileallthreads",
                          "sys._settraceallthreads"})
# A child process is out of reach of both signals: it could run any forbidden kernel unseen.
AUDIT_PROCESS = frozenset({"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
                           "subprocess.Popen", "os.system", "pty.spawn"})
# Programs learner-side code may start without it counting as tampering: set by the worker, only
# once the OS sandbox confines execution to them (Landlock's execute right: a shell, a second
# Python or anything in the scratch directory cannot be started at all). They are the tools
# PyTorch and Triton start themselves: inductor's C compiler, Triton's `ldconfig -p`, `ptxas`.
allowed_programs: frozenset = frozenset()  # real paths
allowed_program_dirs: tuple = ()  # compiler internals (cc1, collect2...)
refused_compilers: frozenset = frozenset()  # the C toolchain, where the problem refuses it
_COMPILER_REFUSED = ("ran the C compiler ({}), which a problem that forbids library kernels does not allow: "
                     "code compiled at run time could call libtorch's convolution and pooling kernels "
                     "directly (torch.compile's default backend compiles C++ too: use "
                     "torch.compile(backend='aot_eager') or none here)")


def _program_of(event: str, args) -> str | None:
    """The program an audited process start runs, as the event gives it."""
    try:
        if event == "subprocess.Popen":  # (executable, args, cwd, env)
            program = args[0] if args[0] is not None else (args[1] if isinstance(args[1], (str, bytes))
                                                           else list(args[1])[0])
        elif event in ("os.exec", "os.posix_spawn"):  # (path, args, env)
            program = args[0]
        elif event == "os.spawn":  # (mode, path, args, env)
            program = args[1]
        else:  # os.fork, os.system (a shell), pty.spawn: never a listed tool
            return None
        return os.fsdecode(program)
    except (IndexError, TypeError, ValueError):
        return None


def _real_program(event: str, args) -> str | None:
    program = _program_of(event, args)
    found = program if program and os.sep in program else (shutil.which(program) if program else None)
    return os.path.realpath(found) if found else None


def _allowed_start(event: str, args) -> bool:
    if not allowed_programs:
        return False
    real = _real_program(event, args)
    if real is None:
        return False
    return real in allowed_programs or any(real.startswith(d + os.sep) for d in allowed_program_dirs)


_audit_stack: list = []  # Findings of the guarded stretches now running (innermost last)
_audit_installed = False


def _audit(event: str, args) -> None:
    if not _audit_stack:
        return
    what = None
    if event in AUDIT_PROCESS:
        if _allowed_start(event, args):
            return
        real = _real_program(event, args) if refused_compilers else None
        if real is not None and real in refused_compilers:
            what = _COMPILER_REFUSED.format(os.path.basename(real))
        else:
            what = f"started a child process ({event}), whose work no signal can see"
    elif event in AUDIT_TAMPER or event.startswith("ctypes."):
        if event == "sys.setprofile" and _from_thread_bootstrap():
            return  # a new thread installing the hook threading.setprofile gave it: our own
        what = event
    elif event == "open" and args and isinstance(args[0], str) and args[0].endswith("/mem") \
            and args[0].startswith("/proc/"):
        what = f"open({args[0]!r})"
    if what is not None:
        _audit_stack[-1].tamper.append(f"{what} (seen by the audit hook)")


def _from_thread_bootstrap() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == threading.__file__ and frame.f_code.co_name == "_bootstrap_inner":
            return True
        frame = frame.f_back
    return False


def install_audit_hook() -> None:
    """Called once per worker before learner code is imported (an audit hook is for life)."""
    global _audit_installed
    if not _audit_installed:
        sys.addaudithook(_audit)
        _audit_installed = True


@dataclass(frozen=True)
class BannedOps:
    """aten op names (without overload) and Python-visible C function names, each with a reason;
    ``patterns`` (regex -> reason) also catch ops no list names (``aten::conv_tbc``,
    ``mkldnn::_convolution_pointwise``, 3-d pooling...): they are matched against both kinds of
    name. Build them with ``grader.bans.forbid``, which always adds the family patterns.

    ``aten`` and ``patterns`` are also refused process-wide by ``intercept`` (every overload, every
    namespace, every computing key); ``autograd`` names ops through which no autograd graph may be
    built (refused on the Autograd keys); ``foreign`` names other libraries' routines as
    ``"module:attribute"`` (numpy, scipy), refused by wrappers."""

    aten: dict = field(default_factory=dict)  # "aten::convolution" -> reason
    python: dict = field(default_factory=dict)  # "conv2d" -> reason
    patterns: dict = field(default_factory=dict)  # r"(?:^|::|_)conv(?:olution|\dd)" -> reason
    autograd: dict = field(default_factory=dict)  # "aten::as_strided" -> reason
    foreign: dict = field(default_factory=dict)  # "numpy._core.multiarray:correlate2" -> reason

    def __bool__(self) -> bool:
        return bool(self.aten or self.python or self.patterns or self.autograd or self.foreign)

    def reason(self, name: str, exact: dict) -> str | None:
        """Why ``name`` is forbidden (exact list first, then the patterns), or None."""
        found = exact.get(name)
        if found is None and self.patterns:
            cache = _pattern_cache.setdefault(id(self.patterns), {})
            if name not in cache:
                cache[name] = next((why for rx, why in self.patterns.items() if re.search(rx, name)), None)
            found = cache[name]
        return found

    def as_plain(self) -> dict:
        return {"aten": dict(self.aten), "python": dict(self.python), "patterns": dict(self.patterns),
                "autograd": dict(self.autograd), "foreign": dict(self.foreign)}


_pattern_cache: dict = {}


@dataclass
class Findings:
    banned: dict = field(default_factory=dict)  # op name -> reason
    tamper: list = field(default_factory=list)

    def as_plain(self) -> dict:
        return {"banned": dict(self.banned), "tamper": list(self.tamper)}


class _DispatchWatcher(TorchDispatchMode):
    def __init__(self, banned: BannedOps, findings: Findings):
        super().__init__()
        self._banned = banned.aten
        self._owner = banned
        self._findings = findings

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name
        reason = self._owner.reason(name, self._banned)
        if reason is not None:
            self._findings.banned.setdefault(name, reason)
        return func(*args, **(kwargs or {}))


class Guard:
    """Context manager around one stretch of learner code."""

    def __init__(self, banned: BannedOps):
        self.banned = banned
        self.findings = Findings()
        self._mode = None
        self._previous_profile = None
        self._leaving = False
        self._hook = self._profile_hook  # one bound method, so identity checks work

    def _profile_hook(self, frame, event, arg):
        if self._leaving:
            return
        if event == "call":
            # torch.ops.aten.X.default(...) enters OpOverload.__call__, a Python frame.
            code = frame.f_code
            if code.co_name == "__call__" and code.co_filename.endswith("_ops.py"):
                op = frame.f_locals.get("self")
                name = getattr(op, "_name", None)
                reason = self.banned.reason(name, self.banned.aten) if isinstance(name, str) else None
                if reason is not None:
                    self.findings.banned.setdefault(name, reason)
            return
        if event != "c_call":
            return
        name = getattr(arg, "__name__", None)
        if name is None:
            return
        reason = self.banned.reason(name, self.banned.python)
        if reason is not None:
            self.findings.banned.setdefault(name, reason)
            return
        owner = type(getattr(arg, "__self__", None)).__name__
        if name in TAMPER_CALLS or owner in TAMPER_CALLS:
            where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
            what = name if name in TAMPER_CALLS else f"{owner}.{name}"
            self.findings.tamper.append(f"called {what} at {where}")

    def _other_threads(self, when: str) -> None:
        # The dispatch mode is per thread and threading.setprofile reaches only threads started
        # inside the guard: a thread started earlier (at import, say) could run forbidden ops
        # unseen, and one still running afterwards could change results. Neither is needed.
        others = [t for t in sys._current_frames() if t != threading.get_ident()]
        if others:
            self.findings.tamper.append(
                f"{len(others)} other Python thread(s) of your code were running {when} the graded "
                "call; the grader cannot watch them (join your threads before returning)")

    def __enter__(self) -> Findings:
        self._mode = _DispatchWatcher(self.banned, self.findings) if (self.banned.aten or self.banned.patterns) else None
        if self._mode is not None:
            self._mode.__enter__()
        if self.banned:
            self._other_threads("before")
            self._previous_profile = sys.getprofile()
            threading.setprofile(self._hook)
            sys.setprofile(self._hook)
            _audit_stack.append(self.findings)  # after our own setprofile, which is audited too
        return self.findings

    def __exit__(self, *exc) -> bool:
        if self.banned:
            self._other_threads("after")
            if _audit_stack and _audit_stack[-1] is self.findings:
                _audit_stack.pop()  # before our own setprofile below
            else:
                self.findings.tamper.append("the audit stack was changed")
                _audit_stack[:] = [f for f in _audit_stack if f is not self.findings]
            if sys.getprofile() is not self._hook:
                self.findings.tamper.append("the profile hook was replaced")
            # Remove the hook first so that leaving the dispatch mode is not itself reported.
            self._leaving = True
            sys.setprofile(self._previous_profile)
            threading.setprofile(None)
        if self._mode is not None:
            try:
                still_ours = torch._C._len_torch_dispatch_stack() > 0
            except Exception:  # private API moved: the first signal keeps working without it
                still_ours = True
            if not still_ours:
                self.findings.tamper.append("the dispatch mode was removed")
            else:
                try:
                    self._mode.__exit__(*exc)
                except Exception:
                    self.findings.tamper.append("the dispatch mode stack was changed")
        return False


NO_BANS = BannedOps()
