"""p03's oracles agree with the closed-form formulas, and its case makers make what they claim.

The checks take their expected values from PyTorch (shapes of real ops, a receptive field
measured by gradients); these tests sweep many settings so that an oracle or generator bug shows
here rather than as a learner's wrong verdict. Pure parent-side code: no worker, fast.
"""

from __future__ import annotations

import itertools

import torch

from grader.problems import p03_conv_arithmetic as p03


def _conv(size, k, s, p, d):
    out = (size + 2 * p - d * (k - 1) - 1) // s + 1
    return out if out >= 1 else None


def test_conv_oracle_matches_the_formula_and_refuses_empty_outputs():
    for size, k, s, p, d in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(3), range(1, 3)):
        assert p03.torch_conv_size(size, k, s, p, d) == _conv(size, k, s, p, d), (size, k, s, p, d)


def test_transposed_oracle_matches_the_formula():
    for size, k, s, p, d in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(3), range(1, 3)):
        for op in range(max(s, d)):
            out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            assert p03.torch_transposed_size(size, k, s, p, op, d) == (out if out >= 1 else None)


def test_measured_receptive_field_matches_the_recurrence():
    for seed in range(60):
        layers = p03._layers_case(torch.Generator().manual_seed(seed))
        field, jump = 1, 1
        for layer in layers:
            field += (layer["kernel_size"] - 1) * layer.get("dilation", 1) * jump
            jump *= layer.get("stride", 1)
        assert p03.measured_receptive_field(layers) == field, layers


def test_case_makers_are_valid_or_invalid_as_asked():
    for seed in range(60):
        gen = torch.Generator().manual_seed(seed)
        assert p03.torch_conv_size(**p03._conv_case(gen, valid=True)) is not None
        assert p03.torch_conv_size(**p03._conv_case(gen, valid=False)) is None
        assert p03.torch_transposed_size(**p03._transposed_case(gen, valid=True)) is not None
        assert p03.torch_transposed_size(**p03._transposed_case(gen, valid=False)) is None
