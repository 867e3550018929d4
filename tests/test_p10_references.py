"""p10's parent-side oracles agree with PyTorch itself (no worker involved)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.problems import p10_bias_activation as p10


def test_fold_reference_is_eval_mode_batchnorm():
    for index in range(4):
        case = p10._fold_case(torch.Generator().manual_seed(index), index)
        kw = dict(case["conv_kwargs"], dtype=torch.float64)
        conv, bn = nn.Conv2d(**kw), nn.BatchNorm2d(**dict(case["bn_kwargs"], dtype=torch.float64))
        conv.load_state_dict({k: v.double() for k, v in case["conv_state"].items()})
        bn.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in case["bn_state"].items()})
        bn.eval()
        x = torch.randn(2, kw["in_channels"], 7, 8, dtype=torch.float64)
        weight, bias = p10._fold_reference(case)
        folded = F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
        torch.testing.assert_close(folded, bn(conv(x)), rtol=1e-6, atol=1e-6)


def test_compose_reference_is_two_convs():
    gen = torch.Generator().manual_seed(3)
    w1, b1, w2, b2, x = (torch.randn(shape, generator=gen, dtype=torch.float64)
                         for shape in ((3, 2, 2, 3), (3,), (4, 3, 3, 1), (4,), (2, 2, 9, 8)))
    for bias1, bias2 in ((b1, b2), (None, b2), (b1, None)):
        weight, bias = p10._compose_reference(w1, bias1, w2, bias2)
        assert weight.shape == (4, 2, 4, 3)
        torch.testing.assert_close(F.conv2d(x, weight, bias), F.conv2d(F.conv2d(x, w1, bias1), w2, bias2))


def test_backward_cases_exercise_the_relu_mask():
    """A bias gradient that ignores the mask must differ from the true one in every case."""
    for index in range(4):
        case = p10._conv_case(torch.Generator().manual_seed(100 + index), index)
        _, out = p10._reference_forward(case)
        assert 0 < int((out > 0).sum()) < out.numel()
        unmasked = case["grad_out"].sum(dim=(0, 2, 3))
        assert not torch.allclose(unmasked, p10._reference_grads(case)[2])


def test_every_channel_has_active_and_inactive_outputs():
    for index in range(40):
        case = p10._conv_case(torch.Generator().manual_seed(200 + index), index % 4)
        _, out = p10._reference_forward(case)
        active = (out > 0).transpose(0, 1).reshape(out.shape[1], -1)
        assert active.any(dim=1).all() and (~active).any(dim=1).all(), index
