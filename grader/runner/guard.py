"""Detects forbidden PyTorch calls while learner code runs (inside the worker).

Two independent signals, so that switching one off does not hide a forbidden kernel:

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
still computed by the parent from the returned values.
"""

from __future__ import annotations

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
_audit_stack: list = []  # Findings of the guarded stretches now running (innermost last)
_audit_installed = False


def _audit(event: str, args) -> None:
    if not _audit_stack:
        return
    what = None
    if event in AUDIT_TAMPER or event.startswith("ctypes."):
        what = event
    elif event == "open" and args and isinstance(args[0], str) and args[0].endswith("/mem") \
            and args[0].startswith("/proc/"):
        what = f"open({args[0]!r})"
    if what is not None:
        _audit_stack[-1].tamper.append(f"{what} (seen by the audit hook)")


def install_audit_hook() -> None:
    """Called once per worker before learner code is imported (an audit hook is for life)."""
    global _audit_installed
    if not _audit_installed:
        sys.addaudithook(_audit)
        _audit_installed = True


@dataclass(frozen=True)
class BannedOps:
    """aten op names (without overload) and Python-visible C function names, each with a reason."""

    aten: dict = field(default_factory=dict)  # "aten::convolution" -> reason
    python: dict = field(default_factory=dict)  # "conv2d" -> reason


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
        self._findings = findings

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name
        reason = self._banned.get(name)
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
                if isinstance(name, str) and name in self.banned.aten:
                    self.findings.banned.setdefault(name, self.banned.aten[name])
            return
        if event != "c_call":
            return
        name = getattr(arg, "__name__", None)
        if name is None:
            return
        reason = self.banned.python.get(name)
        if reason is not None:
            self.findings.banned.setdefault(name, reason)
            return
        owner = type(getattr(arg, "__self__", None)).__name__
        if name in TAMPER_CALLS or owner in TAMPER_CALLS:
            where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
            what = name if name in TAMPER_CALLS else f"{owner}.{name}"
            self.findings.tamper.append(f"called {what} at {where}")

    def __enter__(self) -> Findings:
        self._mode = _DispatchWatcher(self.banned, self.findings) if self.banned.aten else None
        if self._mode is not None:
            self._mode.__enter__()
        if self.banned.python or self.banned.aten:
            self._previous_profile = sys.getprofile()
            threading.setprofile(self._hook)
            sys.setprofile(self._hook)
            _audit_stack.append(self.findings)  # after our own setprofile, which is audited too
        return self.findings

    def __exit__(self, *exc) -> bool:
        if self.banned.python or self.banned.aten:
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
