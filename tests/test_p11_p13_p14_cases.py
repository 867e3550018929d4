"""The case makers and size formulas of p11, p13 and p14 agree with PyTorch for many seeds.

A case PyTorch rejects (output_padding too large, padding over half the kernel, an all-padding
window) would turn a learner's honest answer into a grader error; these tests sweep seeds so a
generator bug shows here first. Pure parent-side code: no worker, fast.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from grader.problems import p11_conv_transpose as p11
from grader.problems import p13_conv_as_matrix as p13
from grader.problems import p14_pooling as p14

SEEDS = range(40)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("family", ["stride_padding", "output_padding", "dilation_groups"])
def test_p11_cases_are_valid_and_sized_by_the_formula(family):
    for seed in SEEDS:
        case = p11.make_case(_gen(seed), family, seed % 4)
        ref = p11.reference(case)  # raises if PyTorch rejects the case
        h, w = case["x"].shape[-2:]
        kh, kw = case["weight"].shape[-2:]
        (sh, sw), (ph, pw) = p11.pair(case["stride"]), p11.pair(case["padding"])
        (oh, ow), (dh, dw) = p11.pair(case["output_padding"]), p11.pair(case["dilation"])
        assert ref.shape[-2:] == (p11.output_size(h, kh, sh, ph, oh, dh), p11.output_size(w, kw, sw, pw, ow, dw))
        assert ref.shape[1] == case["weight"].shape[1] * case["groups"]


def test_p11_worked_example_is_conv_transpose2d():
    x, w = p11.WORKED_X[None, None], p11.WORKED_W[None, None]
    assert torch.equal(F.conv_transpose2d(x, w, stride=2)[0, 0], p11.WORKED_STRIDE2)
    assert torch.equal(F.conv_transpose2d(x, torch.ones(1, 1, 2, 2))[0, 0], p11.WORKED_STRIDE1)


def test_p13_reference_matrix_and_shapes():
    assert torch.equal(p13.reference_matrix({"weight": p13.WORKED_W, "input_shape": (1, 3, 3),
                                             "stride": 1, "padding": 0}).float(), p13.WORKED_M)
    for seed in SEEDS:
        case = p13.make_case(_gen(seed), seed % 4, p13.PINNED)
        m = p13.reference_matrix(case)
        assert tuple(m.shape) == p13.expected_shape(case)
        x = torch.randn(tuple(case["input_shape"]), dtype=torch.float64)
        conv = F.conv2d(x[None], case["weight"].double(), None, case["stride"], case["padding"])
        torch.testing.assert_close(m @ x.flatten(), conv.flatten())


def test_p14_output_size_matches_pytorch():
    x = torch.zeros(1, 1, 9, 9)
    for size, k, s, d, ceil in itertools.product(range(1, 10), range(1, 5), range(1, 4), (1, 2), (False, True)):
        for p in range(k // 2 + 1):
            try:
                got = F.max_pool2d(x[..., :size, :size], k, s, p, d, ceil).shape[-1]
            except RuntimeError:
                continue  # PyTorch rejects it (output smaller than 1)
            assert p14.out_size(size, k, s, p, d, ceil) == got, (size, k, s, p, d, ceil)


@pytest.mark.parametrize("kind", ["max", "ceil", "indices", "avg", "backward"])
def test_p14_cases_are_valid(kind):
    for seed in SEEDS:
        case, ties = p14.make_case(_gen(seed), kind, seed % 4)
        values, _ = p14.max_reference(case)
        if kind != "avg":
            assert torch.isfinite(values).all()
        if kind == "avg":
            F.avg_pool2d(case["x"], case["kernel_size"], case["stride"], case["padding"],
                         case["ceil_mode"], case["count_include_pad"])
        if ties:
            assert torch.equal(case["x"], case["x"].round())


def test_p14_pinned_ceil_case_drops_the_last_window():
    case, _ = p14.make_case(_gen(0), "ceil", 0)
    assert tuple(case["x"].shape[-2:]) == (5, 6)
    assert p14.max_reference(case)[0].shape[-2:] == (3, 4)  # ceil gives 4 rows; the 4th starts in padding


def test_p11_adjoint_cases_are_adjoint():
    """The adjoint check's own construction holds for PyTorch's conv_transpose2d, whatever the seed."""
    for seed in SEEDS:
        tcase, xs, conv = p11.adjoint_case(_gen(seed), seed % 3)
        z = p11.reference(tcase)
        assert tuple(z.shape) == tuple(xs.shape[1:])
        for x in xs:
            torch.testing.assert_close(float((conv(x) * tcase["x"]).sum()), float((x * z).sum()))
