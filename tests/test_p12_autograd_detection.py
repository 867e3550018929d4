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
