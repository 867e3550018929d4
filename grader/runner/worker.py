"""The worker: the only place learner code runs. Everything here is untrusted once the learner's
module is imported; it only gathers plain values for the parent to judge.

Requests (pickled, from the trusted parent):
  {"op": "probe", "probe": "module:function" or "call", "entry": name, "args": [...],
   "kwargs": {...}, "banned": {...}, "return_args": bool}
  {"op": "bye"}
Replies (torch.save of plain values):
  {"status": "ok", "value": ..., "args_after": ..., "findings": {...}, "seconds": s}
  {"status": "raised", "exc_type": "...", "message": "...", "traceback": "..."}
  {"status": "not_implemented", "message": "..."}
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import socket
import sys
import time
import traceback

import torch
import torch.nn.functional  # noqa: F401  (preloaded for learners)

from grader import probes
from grader.runner import intercept, limits, plain, sandbox
from grader.runner.channel import Channel, ChannelClosed
from grader.runner.guard import BannedOps, Guard, install_audit_hook


def preload() -> None:
    """Imports done once in the fork server so that workers start in milliseconds."""
    import torch.nn  # noqa: F401
    import torch.testing  # noqa: F401
    import torch.utils.flop_counter  # noqa: F401
    # A TorchDispatchMode's first dispatch imports torch._dynamo (__torch_dispatch__ is wrapped in
    # torch._disable_dynamo); under the guard's profile hook that took 1.5-6 s in every worker
    # with banned aten ops. Importing it here runs no torch op and starts no thread.
    import torch._dynamo  # noqa: F401
    # What a sandboxed worker may no longer read must be loaded now: the probes, and modules that
    # torch imports lazily on the paths the problems take (a sandboxed worker can still read
    # site-packages, so this is for speed, not for access).
    import torch.utils._python_dispatch  # noqa: F401
    probes.preload_all()
    # Look up, once, the ops the ban families match and the keys their kernels sit on, so that a
    # learner's worker only registers its refusals (intercept.install).
    from grader.bans import FAMILY_PATTERNS

    intercept.preload(FAMILY_PATTERNS)
    sandbox.prepare()


class Env:
    """What a probe gets: the learner's module, a scratch dict, and the guard factory."""

    def __init__(self, module, config: dict):
        self.module = module
        self.config = config
        self.device = config.get("device", "cpu")
        self.state: dict = {}
        self.findings = {"banned": {}, "tamper": []}
        self.banned = BannedOps()
        self.import_findings = None

    def learner(self) -> Guard:
        """Wrap every stretch of learner code in ``with env.learner():``."""
        return _CollectingGuard(self)

    def entry(self, name: str):
        if self.module is None:
            raise RuntimeError("this worker has no learner module")
        try:
            return getattr(self.module, name)
        except AttributeError:
            raise LearnerMissing(name) from None


class LearnerMissing(Exception):
    pass


class _CollectingGuard(Guard):
    def __init__(self, env: Env):
        super().__init__(env.banned)
        self._env = env

    def __exit__(self, *exc):
        result = super().__exit__(*exc)
        self._env.findings["banned"].update(self.findings.banned)
        self._env.findings["tamper"].extend(self.findings.tamper)
        return result


def _call_probe(env: Env, entry: str, *args, **kwargs):
    fn = env.entry(entry)
    with env.learner():
        return fn(*args, **kwargs)


def _call_many_probe(env: Env, entry: str, calls: list) -> list:
    """``entry(*args, **kwargs)`` for each ``[args, kwargs]`` in one round trip; a record per call
    ({"value": v} or {"raised": type name, "value_error": bool, "message", "traceback"}), so the
    parent can name the case that raised. NotImplementedError still means "not started"."""
    fn = env.entry(entry)
    workspace = os.path.abspath(env.config.get("workspace") or "/nonexistent")
    records = []
    for args, kwargs in calls:
        try:
            with env.learner():
                value = fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as exc:
            records.append({"raised": type(exc).__name__, "value_error": isinstance(exc, ValueError),
                            "message": str(exc)[:2000], "traceback": learner_traceback(exc, workspace)})
        else:
            records.append({"value": value})
    return records


_BUILTIN_PROBES = {"call": _call_probe, "call_many": _call_many_probe}


def _resolve_probe(name: str):
    """A built-in probe, or ``"grader.probes.<module>:<function>"``; nothing outside that package
    (a request naming ``os:system`` is refused, even from a forged parent message)."""
    if name in _BUILTIN_PROBES:
        return _BUILTIN_PROBES[name]
    module_name, _, function = name.partition(":")
    if not module_name.startswith(probes.PACKAGE + ".") or not function.isidentifier():
        raise LookupError(f"not a grader probe: {name!r}")
    # Preloaded by the fork server (a sandboxed worker may not read grader/ any more).
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    return getattr(module, function)


def learner_traceback(exc: BaseException, workspace: str) -> str:
    """The traceback trimmed to frames in the learner's own files."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename).startswith(workspace)]
    lines = traceback.format_list(frames) if frames else []
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-4000:]


_memory_mb = 0  # this worker's allowance, named in out-of-memory messages


def _memory_note(exc: BaseException) -> str:
    """Say plainly that the grader's memory limit stopped the learner's code."""
    text = str(exc) if not isinstance(exc, MemoryError) else "MemoryError"
    if _memory_mb and (isinstance(exc, MemoryError) or "can't allocate memory" in text
                       or "not enough memory" in text):
        return (f" [the worker's memory limit of {_memory_mb} MiB beyond torch's own was reached; "
                f"an answer to this problem needs far less]")
    return ""


def _describe_exception(exc: BaseException, workspace: str) -> dict:
    if isinstance(exc, NotImplementedError):
        return {"status": "not_implemented", "message": str(exc)[:500]}
    if isinstance(exc, LearnerMissing):
        return {"status": "raised", "exc_type": "AttributeError",
                "message": f"the module defines no {exc.args[0]!r}", "traceback": ""}
    try:
        message = str(exc)[:2000] + _memory_note(exc)
    except Exception:
        message = "<str() of the exception failed>"
    return {"status": "raised", "exc_type": type(exc).__name__, "message": message,
            "traceback": learner_traceback(exc, workspace)}


def _import_learner(path: str):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _handle(env: Env, request: dict, workspace: str) -> dict:
    env.findings = {"banned": {}, "tamper": []}
    if env.import_findings is not None:  # what the learner's import did counts against every call
        env.findings["banned"].update(env.import_findings.banned)
        env.findings["tamper"].extend(f"at import: {t}" for t in env.import_findings.tamper)
    env.banned = BannedOps(**request.get("banned", {}))
    probe = _resolve_probe(request["probe"])
    args, kwargs = request.get("args", []), request.get("kwargs", {})
    start = time.perf_counter()
    try:
        value = probe(env, *args, **kwargs)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from learner code too
        reply = _describe_exception(exc, workspace)
        env.findings["banned"].update(intercept.drain())
        reply["findings"] = env.findings
        return reply
    # Refusals from any thread or forked child since the last request (the dispatch mode only
    # names what the calling thread did).
    env.findings["banned"].update(intercept.drain())
    seconds = time.perf_counter() - start
    reply = {"status": "ok", "value": plain.to_plain(value), "findings": env.findings,
             "seconds": seconds}
    if request.get("return_args"):
        reply["args_after"] = plain.to_plain(list(args[1:] if request["probe"] in _BUILTIN_PROBES else args))
    return reply


def _forget_grader_modules() -> None:
    """Take every grader module but the worker's own (``grader.runner``, ``grader.probes``) out of
    ``sys.modules`` before learner code runs, so nothing of the parent's side (bans, registry) is
    importable by name; a sandboxed worker could not read those files again anyway."""
    keep = ("grader.probes", "grader.runner")
    for name in list(sys.modules):
        if name.startswith("grader.") and not any(name == k or name.startswith(k + ".") for k in keep):
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                delattr(sys.modules[parent], child)  # `grader.bans` as an attribute, too


def _forget_modules(packages) -> None:
    """Drop the pure-Python modules of ``packages`` so the learner's import runs them again under
    the environment just set. The fork server's preload (torch.testing) already imported triton,
    whose own @triton.jit helpers (tl.zeros...) were then decorated for the compiler, not the
    interpreter. Compiled extension modules stay: they cannot be loaded twice."""
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") for p in packages):
            if str(getattr(sys.modules[name], "__file__", "") or "").endswith(".py"):
                del sys.modules[name]


def main(sock_fd: int, out_fd: int, config: dict) -> int:
    global _memory_mb
    _memory_mb = config.get("memory_mb", 0)
    limits.apply_worker_limits(_memory_mb, config.get("memory_kind", "as"))
    install_audit_hook()  # before any learner code: it cannot be removed afterwards
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    sys.dont_write_bytecode = True  # never write __pycache__ into a learner's workspace
    # Set before the learner's import: e.g. TRITON_INTERPRET is read when a kernel is decorated.
    os.environ.update({str(k): str(v) for k, v in (config.get("env") or {}).items()})
    _forget_modules(config.get("reimport") or ())
    path = config.get("module_path")  # None: the trusted baseline worker
    if path:
        _forget_grader_modules()
    if config.get("sandbox"):
        try:
            sandbox.apply(config)
        except sandbox.SandboxError as exc:
            # Never run learner code outside a sandbox the run promised: the parent reports the
            # worker's exit and this line of its output.
            print(f"convkata: the worker's sandbox could not be set up: {exc}", file=sys.stderr, flush=True)
            return 71
        from grader.runner import guard

        compiler = config.get("compiler", True)
        guard.allowed_programs = sandbox.allowed_programs(compiler)
        guard.allowed_program_dirs = sandbox.program_dirs(compiler)
        guard.refused_compilers = sandbox.refused_compilers(compiler)
    elif not path:
        sandbox.undumpable()  # a baseline worker: the grader's own, like the fork server
    torch.set_num_threads(config.get("threads") or os.cpu_count() or 1)
    os.set_inheritable(sock_fd, False)  # a program the learner execs does not get the socket
    channel = Channel(socket.socket(fileno=sock_fd))
    workspace = os.path.abspath(config.get("workspace") or "/nonexistent")
    module = None
    import_findings = None
    if path:
        sys.path.insert(0, os.path.dirname(path))
        banned = BannedOps(**config.get("banned", {}))
        if banned:  # the learner's worker only: the trusted baseline (no module_path) computes freely
            intercept.install(banned, config.get("device", "cpu"))
        import_guard = Guard(banned)
        try:
            with import_guard:
                module = _import_learner(path)
            import_findings = import_guard.findings
            import_findings.banned.update(intercept.drain())
            hello = {"status": "ready"}
        except BaseException as exc:
            hello = _describe_exception(exc, workspace)
            hello["phase"] = "import"
            seen = import_guard.findings.tamper
            if seen and hello.get("status") == "raised":  # often the cause: say it with the error
                hello["message"] = f"{hello.get('message', '')} (the grader saw: {seen[0]})"
    else:
        hello = {"status": "ready"}
    channel.send(plain.encode(hello))
    if hello["status"] != "ready":
        return 0
    env = Env(module, config)
    env.import_findings = import_findings
    while True:
        try:
            request = pickle.loads(channel.recv())
        except ChannelClosed:
            return 0
        if request.get("op") == "bye":
            return 0
        try:
            reply = _handle(env, request, workspace)
            payload = plain.encode(reply)
        except BaseException as exc:  # e.g. a value torch.save cannot write
            payload = plain.encode({"status": "raised", "exc_type": type(exc).__name__,
                                    "message": f"the result could not be sent back: {exc}"[:2000],
                                    "traceback": ""})
        sys.stdout.flush()
        sys.stderr.flush()
        channel.send(payload)
