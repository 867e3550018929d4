"""p02's oracle: the float64 functional forward pass is the specified network.

Checked against the reference solution's nn.Module in float64 on odd, non-square and minimal
inputs, so an error in the grader's own reference cannot pass for a learner's bug. In-process
(trusted code only), fast.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from conftest import ROOT
from grader.checks.cases import random_tensor
from grader.probes import p02_simple_cnn as p02_probes
from grader.problems import p02_simple_cnn as p02


def _solution():
    spec = importlib.util.spec_from_file_location("p02_solution", ROOT / "solutions" / "p02_simple_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("in_channels, num_classes, h, w", [(1, 10, 28, 28), (3, 5, 7, 9), (2, 3, 4, 4),
                                                            (4, 2, 5, 13), (1, 7, 21, 6)])
def test_reference_forward_is_the_specified_network(in_channels, num_classes, h, w):
    gen = torch.Generator().manual_seed(h * 100 + w)
    state = p02.random_state(gen, in_channels, num_classes)
    x = random_tensor(gen, (2, in_channels, h, w), torch.float64)
    model = _solution().SimpleCNN(in_channels, num_classes).double()
    assert {n: tuple(p.shape) for n, p in model.named_parameters()} == p02.param_shapes(in_channels, num_classes)
    assert p02_probes._load(model, {n: v.double() for n, v in state.items()}) is None
    with torch.no_grad(), p02.one_thread():  # tiny convs: one thread is fastest on a busy box
        torch.testing.assert_close(model(x), p02.reference_forward(state, x), rtol=1e-10, atol=1e-12)
