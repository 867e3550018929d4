"""Forbidden kernels refused process-wide, inside a learner's worker (containment by construction).

The guard (``guard.py``) recognises forbidden calls from the calling thread; this module makes
them impossible. Before the learner's file is imported, the worker registers the grader's own
kernel, with ``torch._C._dispatch_library("IMPL", ns)`` (what ``torch.library.Library`` wraps),
for every op a problem bans, on every key where the op has a kernel that computes: the backend
keys (CPU, and CUDA when the worker's device is cuda, with their quantized, sparse, mkldnn and
nested variants) and the composite alias keys (which fill every backend without a kernel of its
own). The dispatcher is one table for the whole process, so the refusal holds from any thread,
from C (``map``), under ``_DisableTorchDispatch``, through ``OpOverload.redispatch`` to a backend
key set, and in a child forked afterwards (it inherits the table).

The kernel (a) flags the op in an anonymous shared mapping, which every thread and every forked
child writes into and the worker reads after each request (``drain``); (b) raises
``RuntimeError("<op> is forbidden in this problem: <reason>")`` instead of computing, so the
forbidden kernel never produces a value. The registration handles are leaked on purpose (a
reference count nobody owns, and pybind objects are not tracked by ``gc``): learner code cannot
find them to undo the registrations, and a newer registration of its own does not bring the
original kernel back (it only shadows ours).

Two more kinds of refusal use the same flags:

* ``BannedOps.autograd``: ops through which an autograd graph may not be built (p10, p12). The
  kernel sits on the Autograd keys and refuses when grad mode is on and an input requires grad;
  otherwise it redispatches below autograd (the op computes as usual, and no graph is needed).
* ``BannedOps.foreign``: other libraries' convolution and filter routines (numpy's correlate,
  scipy.signal and scipy.ndimage kernels), named ``"module:attribute"`` (every module that
  re-exports one is named too). Each is replaced by a refusing wrapper; a module imported later
  (scipy) is patched by an import hook right after it runs. This is Python-level replacement,
  not a dispatcher table: see "what remains" in docs/architecture.md.
* PyTorch's own Python decompositions of refused ops (``torch._decomp``: im2col, col2im,
  max_pool2d_with_indices, unfold_copy...), which compute them from ops that are not refused,
  are replaced the same way in the decomposition tables and the modules that hold them.

Cost: matching op names, looking up their kernels and finding the decompositions is done once in
the fork server (``preload``, about 36 ms of CPU) for the family patterns; a worker only
registers: 150-560 kernels, 8-22 ms of CPU per worker on the 2-core development machine (p07
least, p12 most: every ``*_backward`` kernel).
"""

from __future__ import annotations

import importlib.abc
import mmap
import re
import sys
import warnings

import torch

# Keys whose kernels compute values. Meta kernels only compute shapes; Autograd, Autocast,
# Functionalize, vmap and the like redispatch to these, so refusing here is enough.
CPU_KEYS = ("CPU", "QuantizedCPU", "SparseCPU", "SparseCsrCPU", "MkldnnCPU", "NestedTensorCPU")
CUDA_KEYS = ("CUDA", "QuantizedCUDA", "SparseCUDA", "SparseCsrCUDA", "NestedTensorCUDA")
ALIAS_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd",
              "CompositeExplicitAutogradNonFunctional", "CompositeImplicitAutogradNestedTensor")
_ALL_KEYS = CPU_KEYS + CUDA_KEYS + ALIAS_KEYS

_ops_by_base: dict[str, tuple[str, ...]] = {}  # "aten::conv2d" -> ("aten::conv2d", "aten::conv2d.padding")
_pattern_matches: dict[str, tuple[str, ...]] = {}  # regex -> the full op names it matches
_kernel_keys: dict[str, tuple[str, ...]] = {}  # full op name -> the keys of _ALL_KEYS it has kernels for

# One entry per refusal of this worker: (name shown, reason); the flag of entry i is _flags[i].
_entries: list[tuple[str, str]] = []
_flags: mmap.mmap | None = None
_installed = False


def _all_ops() -> dict[str, tuple[str, ...]]:
    if not _ops_by_base:
        grouped: dict[str, list[str]] = {}
        for full in torch._C._dispatch_get_all_op_names():
            grouped.setdefault(full.partition(".")[0], []).append(full)
        _ops_by_base.update((base, tuple(names)) for base, names in grouped.items())
    return _ops_by_base


def _matching(pattern: str) -> tuple[str, ...]:
    """Every registered op (all namespaces, all overloads) whose base name matches ``pattern``."""
    found = _pattern_matches.get(pattern)
    if found is None:
        rx = re.compile(pattern)
        found = tuple(full for base, names in _all_ops().items() if rx.search(base) for full in names)
        _pattern_matches[pattern] = found
    return found


def _keys_of(full: str) -> tuple[str, ...]:
    keys = _kernel_keys.get(full)
    if keys is None:
        has = torch._C._dispatch_has_kernel_for_dispatch_key
        keys = tuple(k for k in _ALL_KEYS if has(full, k))
        _kernel_keys[full] = keys
    return keys


def preload(patterns) -> None:
    """In the fork server, before any worker forks: list the ops and look up the kernels of those
    that ``patterns`` (the ban families) match, so that workers only register."""
    bases = set()
    for pattern in patterns:
        for full in _matching(pattern):
            _keys_of(full)
            bases.add(full.partition(".")[0])
    _find_decompositions(bases)


def plan(banned, device: str = "cpu") -> list[tuple[str, str, str]]:
    """(full op name, dispatch key, reason) for every kernel to replace under ``banned`` (a
    ``guard.BannedOps``). Exact names are given without overload and cover every overload;
    patterns match the base name in every namespace (aten, mkldnn, quantized, ...)."""
    reasons: dict[str, str] = {}
    ops = _all_ops()
    for name, reason in banned.aten.items():
        for full in ops.get(name, ()):
            reasons.setdefault(full, reason)
    for pattern, reason in banned.patterns.items():
        for full in _matching(pattern):
            reasons.setdefault(full, reason)
    wanted = set(CPU_KEYS + ALIAS_KEYS + (CUDA_KEYS if str(device).startswith("cuda") else ()))
    return [(full, key, reason) for full, reason in sorted(reasons.items())
            for key in _keys_of(full) if key in wanted]


def _refuse(index: int, name: str, reason: str):
    message = f"{name} is forbidden in this problem: {reason}"

    def refuse(*args, **kwargs):
        _flags[index] = 1
        raise RuntimeError(message)
    refuse.__name__ = refuse.__qualname__ = f"forbidden {name}"
    return refuse


def _refuse_graph(index: int, overload, name: str, reason: str):
    after_autograd = torch._C._after_autograd_keyset
    message = (f"building an autograd graph through {name} is forbidden in this problem: {reason} "
               f"(compute the gradient yourself)")

    def kernel(keyset, *args, **kwargs):
        if torch.is_grad_enabled() and any(
                isinstance(a, torch.Tensor) and a.requires_grad
                or isinstance(a, (list, tuple)) and any(isinstance(t, torch.Tensor) and t.requires_grad for t in a)
                for a in args):
            _flags[index] = 1
            raise RuntimeError(message)
        if any(type(a) in (int, float, bool, complex) for a in args):
            # A Python number may stand for a wrapped-number tensor (x * 2.0), which a boxed
            # redispatch cannot take: call the op again below autograd, which wraps it as the
            # original call did (same type promotion).
            with torch._C._AutoDispatchBelowAutograd():
                return overload(*args, **kwargs)
        return overload.redispatch(keyset & after_autograd, *args, **kwargs)
    kernel.__name__ = kernel.__qualname__ = f"no autograd graph through {name}"
    return kernel


def _leak(obj) -> None:
    """Keep ``obj`` alive for the life of the process with no Python reference to it: a
    registration handle learner code could otherwise find and reset."""
    import ctypes

    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def _overload(full: str):
    ns, _, rest = full.partition("::")
    name, _, overload = rest.partition(".")
    return getattr(getattr(getattr(torch.ops, ns), name), overload or "default")


def install(banned, device: str = "cpu") -> int:
    """Register the refusing kernels for ``banned`` in this process (a learner's worker, before
    its import; once). Returns the number of kernels registered. A worker with no bans (the
    trusted baseline) never calls this."""
    global _flags, _installed
    if _installed:
        raise RuntimeError("interception is installed once per worker")
    _installed = True
    kernels = plan(banned, device)
    autograd = []
    has = torch._C._dispatch_has_kernel_for_dispatch_key
    for name, reason in getattr(banned, "autograd", {}).items():
        for full in _all_ops().get(name, ()):
            if not has(full, "Autograd"):
                continue  # a composite op: the graph is built by the ops it decomposes into
            for key in ("AutogradCPU",) + (("AutogradCUDA",) if str(device).startswith("cuda") else ()):
                autograd.append((full, key, reason))
    foreign = list(getattr(banned, "foreign", {}).items())
    libraries: dict[str, object] = {}

    def library(ns):
        if ns not in libraries:
            libraries[ns] = torch._C._dispatch_library("IMPL", ns, "")
        return libraries[ns]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel": intended
        shown: dict[str, int] = {}
        for full, key, reason in kernels:
            base = full.partition(".")[0]
            index = shown.get(base)
            if index is None:
                index = shown[base] = len(_entries)
                _entries.append((base, reason))
            ns, _, op = full.partition("::")
            library(ns).impl(op, key, _refuse(index, base, reason), False)
        for full, key, reason in autograd:
            base = full.partition(".")[0]
            index = len(_entries)
            _entries.append((f"{base} (autograd graph)", reason))
            ns, _, op = full.partition("::")
            library(ns).impl(op, key, _refuse_graph(index, _overload(full), base, reason), True)
    for handle in libraries.values():
        _leak(handle)
    libraries.clear()
    _refuse_decompositions({full.partition(".")[0]: reason for full, _, reason in kernels})
    finder = _Foreign(foreign) if foreign else None
    # One flag per entry, in memory shared with children forked later (MAP_SHARED); the
    # refusing kernels only read it when called, after this.
    _flags = mmap.mmap(-1, max(1, len(_entries)))
    if finder is not None:
        finder.install()
    return len(kernels) + len(autograd)


_decomp_sites: dict[str, list[tuple[int, dict, object]]] = {}  # base -> [(function group, container, key)]
_decomp_scanned: set[str] = set()


def _find_decompositions(bases: set[str]) -> None:
    """Where PyTorch's Python decompositions of ``bases`` are held: the decomposition tables and
    the torch._decomp/_refs/_prims module attributes (the same function, or what it wraps)."""
    _decomp_scanned.update(bases)
    decomp = sys.modules.get("torch._decomp")
    if decomp is None:
        return
    groups: dict[int, tuple[int, str]] = {}  # id(function) -> (group, base)
    for table in getattr(decomp, "global_decomposition_table", {}).values():
        for op, fn in table.items():
            name = getattr(op, "name", None)
            base = name().partition(".")[0] if callable(name) else ""
            if base not in bases:
                continue
            group = groups.get(id(fn), (len(groups), base))[0]
            while fn is not None and id(fn) not in groups:
                groups[id(fn)] = (group, base)
                fn = getattr(fn, "__wrapped__", None)
            _decomp_sites.setdefault(base, []).append((group, table, op))
    if not groups:
        return
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not name.startswith(("torch._decomp", "torch._refs", "torch._prims")) or not isinstance(namespace, dict):
            continue
        for key, value in namespace.items():
            if callable(value) and id(value) in groups:
                group, base = groups[id(value)]
                _decomp_sites.setdefault(base, []).append((group, namespace, key))


def _refuse_decompositions(reasons: dict[str, str]) -> None:
    """PyTorch's own Python decompositions of the refused ops (torch._decomp: im2col, col2im,
    max_pool2d_with_indices, unfold_copy...) compute them with ops that are not refused: replace
    them wherever they are held (found once in the fork server for the family patterns)."""
    missing = set(reasons) - _decomp_scanned
    if missing:
        _find_decompositions(missing)
    wrappers: dict[int, object] = {}
    for base, reason in reasons.items():
        for group, container, key in _decomp_sites.get(base, ()):
            wrapper = wrappers.get(group)
            if wrapper is None:
                name = f"{base} (torch._decomp's Python decomposition)"
                _entries.append((name, reason))
                wrapper = wrappers[group] = _refuse(len(_entries) - 1, name, reason)
            container[key] = wrapper


def drain() -> dict[str, str]:
    """The refusals flagged since the last drain (from any thread or forked child), as
    op name -> reason; the flags are cleared."""
    if _flags is None:
        return {}
    seen = {}
    for index, flag in enumerate(_flags[:len(_entries)]):
        if flag:
            name, reason = _entries[index]
            seen.setdefault(name, reason)
            _flags[index] = 0
    return seen


# -- other libraries' routines ----------------------------------------------------------------
class _Foreign(importlib.abc.MetaPathFinder):
    """Refusing wrappers for ``"module:attribute"`` routines, now and when their module is
    imported later (a meta path finder that patches the module right after it has run)."""

    def __init__(self, items):
        self.by_module: dict[str, list[tuple[str, str, int]]] = {}
        for spec, reason in items:
            module, _, attr = spec.partition(":")
            index = len(_entries)
            _entries.append((f"{module.split('.')[0]} {attr.lstrip('_')} ({spec})", reason))
            self.by_module.setdefault(module, []).append((attr, reason, index))
        self._busy = False

    def install(self) -> None:
        for module in list(self.by_module):
            if module in sys.modules:
                self._patch(sys.modules[module])
        sys.meta_path.insert(0, self)

    def _patch(self, module) -> None:
        for attr, reason, index in self.by_module.get(module.__name__, ()):
            original = getattr(module, attr, None)
            if original is None or getattr(original, "_convkata_refused", False):
                continue
            wrapper = _refuse(index, _entries[index][0], reason)
            wrapper._convkata_refused = True
            setattr(module, attr, wrapper)  # bans.py names each module that re-exports it

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.by_module or self._busy:
            return None
        self._busy = True
        try:
            import importlib.util

            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader, self)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, finder: _Foreign):
        self._loader, self._finder = loader, finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._finder._patch(module)
