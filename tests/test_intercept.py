"""Process-wide refusal of forbidden kernels (grader/runner/intercept.py) and the one constructor
of bans (grader/bans.py).

Registrations are process-wide and deliberately cannot be undone, so every test that installs
them runs in a forked child of this process (as a worker is a forked child of the fork server).
"""

from __future__ import annotations

import os
import pickle
import re
import select
import signal
import time
import traceback

import pytest
import torch

from conftest import ROOT
from grader import bans, registry
from grader.runner import intercept


def in_child(fn, *args):
    """fn(*args) in a forked child; its return value (or its traceback, re-raised here)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        # An OpenMP pool the parent used does not survive fork (the first parallel region would
        # wait for it forever); one thread runs every op inline, as the fork server's workers,
        # forked from a process that never ran an op, need not.
        torch.set_num_threads(1)
        try:
            payload = pickle.dumps(("ok", fn(*args)))
        except BaseException:
            payload = pickle.dumps(("error", traceback.format_exc()))
        with os.fdopen(write, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write)
    chunks, deadline = [], time.monotonic() + 300
    with os.fdopen(read, "rb", buffering=0) as src:
        while True:
            if not select.select([src], [], [], max(0.0, deadline - time.monotonic()))[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError("the child did not finish within 300 s")
            chunk = src.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)
    if status != "ok":
        raise AssertionError(f"in the child:\n{value}")
    return value


def refused(fn) -> str | None:
    """The refusal message if fn() raised the interception's RuntimeError, else None."""
    try:
        fn()
    except RuntimeError as exc:
        if "forbidden in this problem" in str(exc):
            return str(exc)
        raise
    return None


def _problem_bans(problem_id):
    return registry.find(problem_id).banned


# -- the constructor ---------------------------------------------------------------------------
def test_no_problem_builds_its_bans_by_hand():
    for path in sorted((ROOT / "grader" / "problems").glob("p*.py")):
        assert "BannedOps(" not in path.read_text(), f"{path.name} builds a BannedOps by hand: use bans.forbid"


@pytest.mark.parametrize("spec", [s for s in registry.PROBLEMS if s.banned], ids=lambda s: s.id)
def test_every_ban_list_carries_its_family_patterns(spec):
    """Whatever a problem bans from a family, it bans the whole family (route 6: p12, p15)."""
    for family in (bans.CONV, bans.UNFOLD, bans.POOL):
        if set(family.aten) & set(spec.banned.aten):
            assert set(family.patterns) <= set(spec.banned.patterns), spec.id
            assert set(family.foreign) <= set(spec.banned.foreign), spec.id


def test_forbid_takes_families_only():
    with pytest.raises(TypeError):
        bans.forbid({"aten::conv2d": "no"})
    assert not bans.forbid()


# -- the plan: which kernels get replaced --------------------------------------------------------
def _planned(banned, device="cpu") -> set[str]:
    return {full.partition(".")[0] for full, _, _ in intercept.plan(banned, device)}


def test_plan_reaches_the_unnamed_members_of_each_family():
    naive = _planned(bans.NAIVE)
    for op in ("aten::unfold_copy", "aten::unfold_backward", "aten::conv_tbc", "aten::slow_conv_dilated2d",
               "aten::_slow_conv2d_forward", "aten::slow_conv_transpose2d", "aten::mkldnn_convolution",
               "mkldnn::_convolution_pointwise", "quantized::conv2d", "aten::max_pool3d_with_indices",
               "aten::avg_pool2d", "aten::im2col", "aten::col2im"):
        assert op in naive, op
    assert not any(re.search(r"convert|matmul|::mm$|as_strided|::index_add", op) for op in naive)
    assert "aten::unfold_copy" in _planned(_problem_bans("p12"))
    assert "aten::conv_tbc" in _planned(_problem_bans("p15"))


def test_plan_for_p10_keeps_torch_nn_grad():
    p10 = _planned(_problem_bans("p10"))
    assert "aten::threshold_backward" in p10 and "aten::slice_backward" in p10
    assert not any("conv" in op for op in p10), sorted(op for op in p10 if "conv" in op)


def test_plan_adds_cuda_keys_only_for_a_cuda_worker():
    cpu = {key for _, key, _ in intercept.plan(bans.NAIVE, "cpu")}
    cuda = {key for _, key, _ in intercept.plan(bans.NAIVE, "cuda")}
    assert "CPU" in cpu and "CUDA" not in cpu
    assert "CPU" in cuda  # a CUDA worker can still move tensors to the CPU
    assert cuda >= cpu


# -- refusal, from every route -------------------------------------------------------------------
def _routes_under_naive():
    import _thread

    import numpy as np
    import torch.nn.functional as F
    from torch._C import DispatchKey, DispatchKeySet

    intercept.install(bans.NAIVE)
    cpu = DispatchKeySet(DispatchKey.CPU)
    aten = torch.ops.aten
    x, w = torch.randn(1, 1, 6, 6), torch.randn(1, 1, 3, 3)
    results = {}

    def attempt(name, fn):
        results[name] = (refused(fn), intercept.drain())

    attempt("F.conv2d", lambda: F.conv2d(x, w))
    attempt("nn.Conv2d", lambda: torch.nn.Conv2d(1, 1, 3)(x))
    attempt("redispatch slow_conv_dilated2d", lambda: aten.slow_conv_dilated2d.default.redispatch(
        cpu, x, w, [3, 3], None, [1, 1], [0, 0], [1, 1]))
    attempt("redispatch _slow_conv2d_forward", lambda: aten._slow_conv2d_forward.default.redispatch(
        cpu, x, w, [3, 3], None, [1, 1], [0, 0]))
    attempt("redispatch slow_conv_transpose2d", lambda: aten.slow_conv_transpose2d.default.redispatch(
        cpu, x, w, [3, 3]))
    attempt("redispatch max_pool2d_with_indices", lambda: aten.max_pool2d_with_indices.default.redispatch(
        cpu, x, [2, 2]))
    attempt("redispatch avg_pool2d", lambda: aten.avg_pool2d.default.redispatch(cpu, x, [2, 2]))
    attempt("redispatch conv2d (composite)", lambda: aten.conv2d.default.redispatch(cpu, x, w))
    attempt("unfold_copy", lambda: torch.unfold_copy(x, 2, 3, 1))
    attempt("F.unfold", lambda: F.unfold(x, 3))
    attempt("conv_tbc", lambda: torch.conv_tbc(torch.randn(5, 1, 1), torch.randn(3, 1, 1), torch.zeros(1), 0))

    def from_c():
        with torch._C._DisableTorchDispatch():
            return list(map(F.conv2d, [x], [w]))
    attempt("map under _DisableTorchDispatch", from_c)

    def raw_thread():
        done, box = _thread.allocate_lock(), []
        done.acquire()

        def run():
            try:
                box.append(refused(lambda: F.conv2d(x, w)))
            finally:
                done.release()
        _thread.start_new_thread(run, ())
        done.acquire()
        if box[0]:
            raise RuntimeError(box[0])
    attempt("raw _thread", raw_thread)

    def forked_child():
        pid = os.fork()
        if pid == 0:
            os._exit(0 if refused(lambda: F.conv2d(x, w)) else 1)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            raise RuntimeError("the forked child was refused: forbidden in this problem")
    attempt("forked child", forked_child)

    attempt("np.correlate", lambda: np.correlate(np.ones(5), np.ones(3)))
    attempt("np.convolve", lambda: np.convolve(np.ones(5), np.ones(3)))
    try:
        import scipy.ndimage
        import scipy.signal
    except ImportError:
        pass
    else:  # imported after install: patched by the import hook
        attempt("scipy.signal.convolve2d", lambda: scipy.signal.convolve2d(np.ones((4, 4)), np.ones((2, 2))))
        attempt("scipy.signal.fftconvolve", lambda: scipy.signal.fftconvolve(np.ones(5), np.ones(3)))
        attempt("scipy.ndimage.correlate", lambda: scipy.ndimage.correlate(np.ones((4, 4)), np.ones((2, 2))))
        attempt("scipy.ndimage.maximum_filter", lambda: scipy.ndimage.maximum_filter(np.ones((4, 4)), 2))

    # What the naive problems allow still computes.
    allowed = {
        "as_strided + einsum": lambda: torch.einsum("nchwij,ocij->nohw", x.as_strided(
            (1, 1, 4, 4, 3, 3), (36, 36, 6, 1, 6, 1)), w),
        "F.pad": lambda: F.pad(x, (1, 1, 1, 1)),
        "torch.fft": lambda: torch.fft.irfft2(torch.fft.rfft2(x[0, 0])),
        "np.fft": lambda: np.fft.rfft(np.ones(8)),
        "index_add_": lambda: torch.zeros(5).index_add_(0, torch.tensor([0, 0]), torch.ones(2)),
        "Tensor.backward": lambda: (x.clone().requires_grad_() * 2).sum().backward(),
    }
    for name, fn in allowed.items():
        fn()
    results["allowed, then drained"] = (None, intercept.drain())
    return results


@pytest.fixture(scope="module")
def naive_routes():
    return in_child(_routes_under_naive)


@pytest.mark.parametrize("route", [
    "F.conv2d", "nn.Conv2d", "redispatch slow_conv_dilated2d", "redispatch _slow_conv2d_forward",
    "redispatch slow_conv_transpose2d", "redispatch max_pool2d_with_indices", "redispatch avg_pool2d",
    "redispatch conv2d (composite)", "unfold_copy", "F.unfold", "conv_tbc",
    "map under _DisableTorchDispatch", "raw _thread", "np.correlate", "np.convolve",
])
def test_route_is_refused_and_recorded(naive_routes, route):
    message, record = naive_routes[route]
    assert message and "forbidden in this problem" in message, route
    assert record, f"{route}: refused but not recorded"
    first = next(iter(record))
    assert first in message, (first, message)


def test_a_forked_child_is_refused_and_its_use_recorded(naive_routes):
    message, record = naive_routes["forked child"]
    assert message, "the forked child computed a forbidden kernel"
    assert "aten::conv2d" in record, record  # written by the child into the shared mapping


@pytest.mark.parametrize("route", ["scipy.signal.convolve2d", "scipy.signal.fftconvolve",
                                   "scipy.ndimage.correlate", "scipy.ndimage.maximum_filter"])
def test_scipy_routines_imported_later_are_refused(naive_routes, route):
    if route not in naive_routes:
        pytest.skip("scipy is not installed")
    message, record = naive_routes[route]
    assert message and record, route


def test_allowed_ops_compute_and_record_nothing(naive_routes):
    assert naive_routes["allowed, then drained"] == (None, {})


def _handles_are_out_of_reach():
    import gc

    intercept.install(bans.NAIVE)
    gc.collect()
    found = [o for o in gc.get_objects() if type(o).__name__ == "_DispatchModule"]
    module_refs = [v for v in vars(intercept).values() if type(v).__name__ == "_DispatchModule"]
    import torch.nn.functional as F

    return len(found), len(module_refs), refused(lambda: F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)))


def test_registration_handles_cannot_be_found_to_undo_them():
    found, module_refs, message = in_child(_handles_are_out_of_reach)
    assert (found, module_refs) == (0, 0)
    assert message


def _no_bans_no_install():
    import torch.nn.functional as F

    return F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).sum().item(), intercept.drain()


def test_a_worker_without_bans_is_untouched():
    assert in_child(_no_bans_no_install) == (16.0, {})  # four windows of four ones


# -- autograd: p10 and p12 -----------------------------------------------------------------------
def _p10_routes():
    import torch.nn.functional as F

    intercept.install(_problem_bans("p10"))
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    g = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    out = {}
    # allowed: the forward, torch.nn.grad, a graph through anything but a convolution
    out["forward"] = F.conv2d(x, w).shape
    out["nn.grad"] = torch.nn.grad.conv2d_input(x.shape, w, g).shape
    out["graph through mul"] = (w.clone().requires_grad_() * 2).grad_fn is not None
    with torch.no_grad():
        out["no_grad conv on requires_grad"] = F.conv2d(x.requires_grad_(), w).shape
    out["drained"] = intercept.drain()
    xr = x.detach().clone().requires_grad_()
    out["graph through conv"] = refused(lambda: F.conv2d(xr, w))
    out["threshold_backward"] = refused(lambda: torch.ops.aten.threshold_backward(g, g, 0.0))
    z = F.conv2d(x.detach(), w)  # allowed: no graph; then the mask alone from autograd
    out["graph through clamp_min"] = refused(lambda: z.requires_grad_().clamp_min(0))
    out["recorded"] = intercept.drain()
    return out


def test_p10_refuses_the_conv_graph_but_allows_torch_nn_grad():
    out = in_child(_p10_routes)
    assert out["drained"] == {}, out["drained"]
    assert "autograd graph" in out["graph through conv"] and "aten::convolution" in out["graph through conv"]
    assert out["threshold_backward"]
    assert "aten::clamp_min" in out["graph through clamp_min"]
    assert "aten::threshold_backward" in out["recorded"]
    assert any("autograd graph" in name for name in out["recorded"])


def _python_decompositions():
    from torch._decomp import decomposition_table, decompositions

    intercept.install(bans.NAIVE)
    x = torch.randn(1, 1, 5, 5)
    aten = torch.ops.aten
    out = {
        "table im2col": refused(lambda: decomposition_table[aten.im2col.default](x, [2, 2], [1, 1], [0, 0], [1, 1])),
        "module im2col": refused(lambda: decompositions.im2col(x, [2, 2], [1, 1], [0, 0], [1, 1])),
        "table max_pool2d_with_indices": refused(
            lambda: decomposition_table[aten.max_pool2d_with_indices.default](x, [2, 2])),
    }
    out["recorded"] = intercept.drain()
    out["other decompositions still work"] = decomposition_table[aten.addmm.default](
        torch.zeros(2, 2), torch.ones(2, 3), torch.ones(3, 2)).sum().item()
    return out


def test_pytorchs_python_decompositions_of_refused_ops_are_refused():
    """torch._decomp computes im2col or max pooling from ops that are not refused."""
    out = in_child(_python_decompositions)
    for route in ("table im2col", "module im2col", "table max_pool2d_with_indices"):
        assert out[route], route
    assert any("torch._decomp" in name for name in out["recorded"])
    assert out["other decompositions still work"] == 12.0
