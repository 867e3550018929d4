"""The context a check runs with: seeded randomness and calls into the learner's worker.

Every call crosses the process boundary: inputs go out pickled, outputs come back as plain data.
Here, in the parent, the context verifies what only the parent can trust: that the inputs came
back unchanged, that no forbidden op was seen, that values have exact plain types.
"""

from __future__ import annotations

import hashlib
import time

import torch

from grader import probes
from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised
from grader.runner import plain
from grader.runner.session import ForkServer, Worker, WorkerTimeout
from grader.spec import ProblemSpec


def derive_seed(*parts) -> int:
    """A stable 63-bit seed from the run's seed and names, so a case can be replayed."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _same(before, after) -> bool:
    if isinstance(before, torch.Tensor):
        return (type(after) is torch.Tensor and after.shape == before.shape
                and after.dtype == before.dtype and torch.equal(after.nan_to_num(), before.nan_to_num()))
    if isinstance(before, (list, tuple)):
        return isinstance(after, (list, tuple)) and len(before) == len(after) and all(
            _same(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return type(after) is dict and before.keys() == after.keys() and all(
            _same(before[k], after[k]) for k in before)
    return True  # numbers and strings cannot be changed in place


class Context:
    def __init__(self, spec: ProblemSpec, server: ForkServer, worker_config: dict, *, seed: int,
                 device: str, deadline: float, time_scale: float, speed: bool):
        self.spec = spec
        self.server = server
        self.worker_config = worker_config
        self.seed = seed
        self.device = device
        self.deadline = deadline
        self.time_scale = time_scale
        self.speed = speed
        self.check_name = ""
        self._learner: Worker | None = None
        self._baseline: Worker | None = None
        self.workers: list[Worker] = []
        # entry points (or probes) that have returned a value at least once in this problem: a
        # NotImplementedError from one of them later is one missing feature, not work not started
        self.answered: set[str] = set()

    # -- randomness ---------------------------------------------------------------------------
    def case_seed(self, index: int = 0) -> int:
        return derive_seed(self.seed, self.spec.id, self.check_name, index)

    def generator(self, index: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(self.case_seed(index))

    # -- workers ------------------------------------------------------------------------------
    def _start(self, module_path) -> Worker:
        worker = self.server.spawn(dict(self.worker_config, module_path=module_path))
        self.workers.append(worker)
        hello = worker.hello(self.deadline)
        if hello["status"] != "ready":
            raise ImportFailed(hello)
        return worker

    def learner_worker(self) -> Worker:
        if self._learner is None or self._learner.closed:
            self._learner = self._start(self.worker_config["learner_path"])
        return self._learner

    def baseline_worker(self) -> Worker:
        """A trusted worker that never loads learner code: runs baselines for speed checks."""
        if self._baseline is None or self._baseline.closed:
            self._baseline = self._start(None)
        return self._baseline

    def finish(self):
        for worker in self.workers:
            worker.finish()

    # -- calls --------------------------------------------------------------------------------
    def call(self, entry: str, *args, arg_names=None, timeout_s=None, banned=None, **kwargs):
        """Call the learner's ``entry(*args, **kwargs)`` in the learner's worker; return its value.

        ``entry``: a top-level name of the learner's module ("conv2d", "SimpleCNN"). ``args`` and
        ``kwargs`` are pickled to the worker (tensors as CPU copies, any shape); the value comes
        back as plain data (tensors, numbers, strings, lists, tuples, dicts). ``arg_names`` name
        the positional arguments in messages; ``timeout_s`` (seconds, wall clock) turns a slow
        call into a failed check; ``banned`` replaces the problem's forbidden ops for this call.

        Raises ``LearnerNotImplemented`` (NotImplementedError: not started), ``LearnerRaised``
        (any other exception of the learner's: the check's ``error``), ``Fail`` (a forbidden op,
        an input changed in place, tampering, the call's own time limit), and lets
        ``WorkerTimeout``/``WorkerGone`` through (the problem's deadline, a dead worker).
        """
        return self.probe("call", entry, *args, arg_names=arg_names, timeout_s=timeout_s,
                          banned=banned, what=f"{entry}()", **kwargs)

    def call_many(self, entry: str, calls: list, *, banned=None) -> list[dict]:
        """Call ``entry`` once per ``[args, kwargs]`` in one round trip (for many cheap cases).

        Returns one record per call: ``{"value": v}`` or ``{"raised": type name, "value_error":
        bool, "message": ..., "traceback": ...}``; NotImplementedError still means not started.
        """
        records = self.probe("call_many", entry, calls, banned=banned, what=f"{entry}()")
        if type(records) is not list or len(records) != len(calls) or \
                not all(type(r) is dict for r in records):
            raise Fail(f"{entry}(): the grader could not read back the results of its calls")
        return records

    def probe(self, probe, *args, arg_names=None, timeout_s=None, banned=None, what=None,
              worker: Worker | None = None, watch=None, **kwargs):
        """Run the worker-side function ``probe`` (a function object from ``grader.probes.*``,
        called there as ``probe(env, *args, **kwargs)``; or the built-in "call"/"call_many") in
        the learner's worker (or ``worker``), and return its plain value.

        ``args``/``kwargs`` travel pickled; the value comes back as plain data (tensors as CPU
        tensors, any shape). Inputs are compared after the call, so a probe whose learner code
        changed an argument in place fails (``arg_names`` name them in the message).
        ``timeout_s`` (seconds, wall clock) turns a slow call into a failed check (e.g. a training
        budget) instead of a problem timeout; the worker is then replaced for the checks that
        follow. ``banned``: the forbidden ops for this call (default: the problem's). ``what``
        names the call in messages. ``watch()`` runs in this process every ~0.25 s while the
        worker works; an exception from it (a ``Fail`` when a CPU-time budget is spent, see
        ``grader.runner.cputime``) kills the worker and propagates, and the worker is replaced
        likewise.

        Raises as ``call`` does: ``LearnerNotImplemented``, ``LearnerRaised``, ``Fail``, and
        ``WorkerTimeout``/``WorkerGone``/``BadReply`` for the worker as a whole.
        """
        if callable(probe):
            probe = probes.wire_name(probe)
        worker = worker or self.learner_worker()
        bans = self.spec.banned if banned is None else banned
        request = {"op": "probe", "probe": probe, "args": list(args), "kwargs": kwargs,
                   "banned": bans.as_plain(),
                   "return_args": True}
        deadline = self.deadline
        if timeout_s is not None:
            deadline = min(deadline, time.monotonic() + timeout_s)
        what = what or probe.rpartition(":")[2]
        try:
            reply = worker.request(request, deadline, watch)
        except WorkerTimeout:
            if timeout_s is not None and time.monotonic() < self.deadline:
                raise Fail(f"{what} did not finish within its limit of {timeout_s:.0f} s",
                           measured=None) from None
            raise
        if reply.banned:  # first: the worker refuses a forbidden op by raising, which may end the call
            names = "; ".join(f"{op} ({why})" for op, why in sorted(reply.banned.items()))
            also = f"; it also went around the grader's op detection: {reply.tamper[0]}" if reply.tamper else ""
            after = ""
            if reply.status in ("not_implemented", "raised") and not any(op in reply.message for op in reply.banned):
                # the forbidden op came first: it is the finding, whatever the code did after it
                raised = "NotImplementedError" if reply.status == "not_implemented" else reply.exc_type
                after = f"; then it raised {raised}: {reply.message}"
            raise Fail(f"{what} called a forbidden op: {names}{also}{after}")
        key = args[0] if probe in ("call", "call_many") and args else probe
        if reply.status == "not_implemented":
            raise LearnerNotImplemented(reply.message, what, answered_before=key in self.answered)
        if reply.status == "ok":
            self.answered.add(key)
        if reply.status == "raised":
            raise LearnerRaised(reply.exc_type, reply.message, reply.traceback, what)
        if reply.tamper:
            raise Fail(f"{what} went around the grader's op detection: {reply.tamper[0]}")
        sent = list(args[1:]) if probe in ("call", "call_many") else list(args)
        self._check_unchanged(sent, reply.args_after, arg_names, what)
        return reply.value

    def _check_unchanged(self, sent, after, arg_names, what):
        if type(after) is not list or len(after) != len(sent):
            raise Fail(f"{what}: the grader could not read back its inputs")
        for i, (before, back) in enumerate(zip(sent, after)):
            if not _same(before, back):
                name = arg_names[i] if arg_names and i < len(arg_names) else f"argument {i + 1}"
                raise Fail(f"{what} modified its input `{name}` in place; inputs must be left unchanged")


class ImportFailed(Exception):
    def __init__(self, hello: dict):
        self.hello = hello
        super().__init__(hello.get("message", ""))


def expect_tensor(value, what: str) -> torch.Tensor:
    if type(value) is not torch.Tensor:
        raise Fail(f"{what} must return a torch.Tensor, got {plain.foreign_description(value)}")
    return value
