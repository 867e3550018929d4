"""p12 (and p10) name the autograd entry points that the guard's profile hook really sees.

If a torch upgrade renamed them, a learner using autograd would pass unnoticed: this test says so
first. It runs the guard in this process, on trusted code.
"""

from __future__ import annotations

import pytest
import torch
import torch.autograd.forward_ad as fwAD

from grader.problems.p12_conv_backward import BANNED, make_case, reference
from grader.runner.guard import Guard

X = torch.randn(3, dtype=torch.float64)


def _grad():
    x = X.clone().requires_grad_(True)
    torch.autograd.grad((x * x).sum(), x)


def _backward():
    x = X.clone().requires_grad_(True)
    (x * x).sum().backward()


def _forward_ad():
    with fwAD.dual_level():
        fwAD.unpack_dual((fwAD.make_dual(X, torch.ones_like(X)) ** 2).sum())


ROUTES = {
    "torch.autograd.grad": _grad,
    "Tensor.backward": _backward,
    "torch.autograd.functional.vjp": lambda: torch.autograd.functional.vjp(lambda a: a * a, X, X),
    "torch.func.vjp": lambda: torch.func.vjp(lambda a: a * a, X)[1](X),
    "torch.func.grad": lambda: torch.func.grad(lambda a: (a * a).sum())(X),
    "torch.func.jvp": lambda: torch.func.jvp(lambda a: a * a, (X,), (X,)),
    "torch.func.jacfwd": lambda: torch.func.jacfwd(lambda a: a * a)(X),
    "forward_ad": _forward_ad,
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_autograd_route_is_detected(route):
    with Guard(BANNED) as findings:
        ROUTES[route]()
    assert findings.banned, f"{route} was not detected"
    assert "by hand" in next(iter(findings.banned.values()))


def test_reference_solution_calls_nothing_banned():
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("p12_solution", ROOT / "solutions" / "p12_conv_backward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = make_case(torch.Generator().manual_seed(0), "dilation", 0)
    with Guard(BANNED) as findings:
        got = module.conv2d_backward(case["grad_out"], case["x"], case["weight"], case["stride"],
                                     case["padding"], case["dilation"])
    assert not findings.banned and not findings.tamper
    for value, expected in zip(got, reference(case)):
        torch.testing.assert_close(value, expected)


# -- autograd without the engine (issue 13, route 7): refused process-wide -----------------------
# Each builds conv's forward on requires_grad copies from ops p12 allows, in a way whose graph
# would give the gradients when its grad_fn nodes are called by hand.
def _windows_as_strided(x, w):
    n, c, h, wd = x.shape
    s = x.stride()
    win = x.as_strided((n, c, h - 1, wd - 1, 2, 2), (s[0], s[1], s[2], s[3], s[2], s[3]))
    return torch.einsum("nchwij,ocij->nohw", win, w)


def _taps_sliced(x, w):
    return sum(x[:, None, :, i:i + x.shape[2] - 1, j:j + x.shape[3] - 1] * w[None, :, :, i, j, None, None]
               for i in range(2) for j in range(2)).sum(2)


def _taps_einsum(x, w):
    return sum(torch.einsum("nchw,oc->nohw", x[:, :, i:i + x.shape[2] - 1, j:j + x.shape[3] - 1], w[:, :, i, j])
               for i in range(2) for j in range(2))


def _windows_indexed(x, w):
    rows = torch.arange(x.shape[2] - 1)[:, None] + torch.arange(2)[None]
    win = x[:, :, rows][:, :, :, :, :, None]  # N, C, Ho, 2, W
    cols = torch.arange(x.shape[3] - 1)[:, None] + torch.arange(2)[None]
    win = x[:, :, rows][..., cols]  # N, C, Ho, 2, Wo, 2
    return torch.einsum("nchiwj,ocij->nohw", win, w)


FORWARDS = {"as_strided": _windows_as_strided, "slices times taps": _taps_sliced,
            "einsum of slices": _taps_einsum, "advanced indexing": _windows_indexed}


def _graph_routes():
    from grader.runner import intercept

    intercept.install(BANNED)
    results = {}
    for name, forward in FORWARDS.items():
        x = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
        w = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
        try:
            out = forward(x, w)
            with torch.no_grad():
                out.grad_fn(torch.ones_like(out))
            results[name] = None
        except RuntimeError as exc:
            results[name] = str(exc)
        results[name] = (results[name], intercept.drain())
    # Slicing with requires_grad is not refused by itself; its node's kernel is.
    g = torch.randn(3, 4, dtype=torch.float64)
    try:
        torch.ops.aten.slice_backward(g, [5, 4], 0, 1, 4, 1)
        results["slice_backward"] = (None, intercept.drain())
    except RuntimeError as exc:
        results["slice_backward"] = (str(exc), intercept.drain())
    return results


@pytest.fixture(scope="module")
def graph_routes():
    from test_intercept import in_child

    return in_child(_graph_routes)


@pytest.mark.parametrize("route", sorted(FORWARDS) + ["slice_backward"])
def test_autograd_without_the_engine_is_refused(graph_routes, route):
    message, record = graph_routes[route]
    assert message and "forbidden in this problem" in message, f"{route} built and walked a graph"
    assert record and "by hand" in next(iter(record.values()))


def _reference_under_interception():
    import importlib.util

    from conftest import ROOT
    from grader.runner import intercept

    intercept.install(BANNED)
    spec = importlib.util.spec_from_file_location("p12_solution", ROOT / "solutions" / "p12_conv_backward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = make_case(torch.Generator().manual_seed(0), "dilation", 0)
    got = module.conv2d_backward(case["grad_out"], case["x"], case["weight"], case["stride"],
                                 case["padding"], case["dilation"])
    return got, intercept.drain()


def test_reference_solution_runs_under_the_interception():
    from test_intercept import in_child

    got, record = in_child(_reference_under_interception)
    assert record == {}
    for value, expected in zip(got, reference(make_case(torch.Generator().manual_seed(0), "dilation", 0))):
        torch.testing.assert_close(value, expected)
