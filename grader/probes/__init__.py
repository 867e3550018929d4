"""Worker-side probes: the only grader code, besides ``grader.runner``, that a worker imports.

A probe is ``def name(env, *args) -> plain values``: it runs inside the learner's worker, wraps
learner code in ``with env.learner():`` and only gathers data. Everything here is untrusted once
the learner's module is imported, so nothing here decides a verdict, holds an expected value or
generates a case: oracles, case makers and data live in ``grader.problems`` / ``grader.checks`` /
``grader.data``, which the worker never imports (and, sandboxed, cannot read).

The parent names a probe by its function object (``ctx.probe(probes.p02_simple_cnn.forward, ...)``);
it travels as ``"module:qualname"`` and the worker resolves it only inside this package.
"""

from __future__ import annotations

import importlib
import pkgutil

PACKAGE = __name__


def wire_name(fn) -> str:
    """``"grader.probes.pNN:name"`` for a probe function object.

    Raises ValueError for anything that is not a plain function of this package (a lambda, a
    method, a function from a check module), so a misplaced probe fails loudly in the parent.
    """
    module = getattr(fn, "__module__", "") or ""
    qualname = getattr(fn, "__qualname__", "") or ""
    if not callable(fn) or not module.startswith(PACKAGE + ".") or "." in qualname or "<" in qualname:
        raise ValueError(f"a probe must be a top-level function of {PACKAGE}.*, got {fn!r}")
    return f"{module}:{qualname}"


def preload_all() -> None:
    """Import every probe module (the fork server does this once, before any worker forks, so a
    sandboxed worker that may no longer read the grader's files still finds them)."""
    for info in pkgutil.iter_modules(__path__, PACKAGE + "."):
        importlib.import_module(info.name)
