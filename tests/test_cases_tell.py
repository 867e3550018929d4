"""Cases that tell and messages that do not mislead (issue 10): parent-side, no worker, fast.

Case 0 of every conv-like check sets every feature where the common mistakes differ, whatever
the seed; the messages name the kind of a wrong value and never show equal-looking values as
the difference. The corpus (tests/submissions) and tests/test_every_seed.py grade the wrong
submissions themselves.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grader.checks.cases import int_advice, pair, shown_value
from grader.checks.compare import compare, shown_difference
from grader.checks.verdict import Fail
from grader.problems import conv_cases
from grader.problems import p11_conv_transpose as p11
from grader.problems import p12_conv_backward as p12

SEEDS = range(25)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _uneven(value) -> bool:
    return isinstance(value, tuple) and value[0] != value[1]


@pytest.mark.parametrize("family", ["stride_padding", "padding_modes", "dilation_groups"])
def test_conv_case_zero_sets_every_feature(family):
    for seed in SEEDS:
        case = conv_cases.make_case(_gen(seed), family, index=0)
        x, w = case["x"], case["weight"]
        assert case["groups"] >= 2 and w.shape[0] // case["groups"] >= 2  # o % g != o // (O/g)
        assert x.shape[1] // case["groups"] >= 2
        assert x.shape[2] != x.shape[3] and w.shape[2] != w.shape[3]
        assert _uneven(case["dilation"]) and case["bias"] is not None
        if family == "padding_modes":
            assert case["padding"] == "same"
        else:
            assert _uneven(case["stride"]) and _uneven(case["padding"])
        conv_cases.reference(case)  # PyTorch accepts it


def test_conv_case_zero_names_its_features():
    case = conv_cases.make_case(_gen(0), "dilation_groups", index=0)
    named = ", ".join(conv_cases.features(case))
    for words in ("groups 2 with 2 output channel(s) per group", "non-square input", "non-square kernel",
                  "stride (1, 2)", "padding (2, 1)", "dilation (2, 3)", "bias"):
        assert words in named


@pytest.mark.parametrize("family", ["stride_padding", "padding_modes", "dilation_groups"])
def test_conv_case_one_leaves_every_option_to_the_defaults(family):
    for seed in SEEDS:
        case = conv_cases.make_case(_gen(seed), family, index=1)
        assert case["bias"] is None and case["groups"] == 1
        assert case["stride"] == 1 and case["dilation"] == 1
        assert case["padding"] == ("valid" if family == "padding_modes" else 0)


def test_a_1x1_kernel_with_a_row_stride_is_always_a_case():
    for seed in SEEDS:
        case = conv_cases.make_case(_gen(seed), "stride_padding", index=2)
        assert tuple(case["weight"].shape[-2:]) == (1, 1) and case["stride"] == (2, 1)


def test_same_padding_resolves_dilation_per_dimension():
    """The issue's example: rows use the row dilation. Swapped, the row padding is 1, not 2."""
    x, w = torch.ones(1, 1, 2, 1), torch.ones(2, 1, 2, 2)
    assert tuple(F.conv2d(x, w, padding="same", dilation=(2, 1)).shape) == (1, 2, 2, 1)
    swapped_rows = F.conv2d(F.pad(x, (0, 1, 0, 1)), w, dilation=(2, 1))  # (1*(2-1), 2*(2-1)) swapped
    assert tuple(swapped_rows.shape) != (1, 2, 2, 1)
    case = conv_cases.make_case(_gen(0), "padding_modes", index=0)
    (dh, dw), (kh, kw) = pair(case["dilation"]), case["weight"].shape[-2:]
    assert dh * (kh - 1) != dw * (kh - 1) and (dh * (kh - 1)) % 2 == 1  # swapping changes the total


@pytest.mark.parametrize("family", ["stride_padding", "output_padding", "dilation_groups"])
def test_p11_case_zero_sets_every_feature(family):
    for seed in SEEDS:
        case = p11.make_case(_gen(seed), family, 0)
        w = case["weight"]
        assert case["groups"] == 2 and w.shape[1] >= 2 and w.shape[0] // 2 >= 2
        assert w.shape[2] != w.shape[3] and case["x"].shape[2] != case["x"].shape[3]
        for key in ("stride", "padding", "output_padding", "dilation"):
            assert _uneven(case[key]), (key, case[key])


def test_p12_names_padding_0_2_with_stride_2_1():
    for seed in SEEDS:
        case = p12.make_case(_gen(seed), "stride_padding", 1)
        assert case["stride"] == (2, 1) and case["padding"] == (0, 2)
        assert p12.make_case(_gen(seed), "plain", 0)["stride"] == 1  # the defaults, left out


# -- messages -------------------------------------------------------------------------------

def test_numpy_integers_are_named_without_the_floor_division_advice():
    numpy_int = {"__foreign__": "numpy.int64"}  # what the worker sends back for np.int64(4)
    text = int_advice(numpy_int)
    assert "a numpy.int64, expected a Python int" in text and "//" not in text and "__foreign__" not in text
    assert shown_value((numpy_int, numpy_int)) == "(a numpy.int64, a numpy.int64)"
    assert "//" in int_advice(4.0) and ".item()" in int_advice(torch.tensor(4))


def test_a_dtype_difference_is_shown_and_zero_signs_are_not():
    expected = torch.tensor([0.0, -2.0], dtype=torch.float32)
    got = torch.tensor([-0.0, -2.0], dtype=torch.float64)
    lines = shown_difference(got, expected)
    assert lines == ["dtype: got float64, expected float32"]
    assert shown_difference(torch.tensor([-0.0]), torch.tensor([0.0])) == []  # equal: no difference


def test_a_difference_the_rounding_hides_is_shown_in_full():
    lines = shown_difference(torch.tensor([1.00001], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64))
    assert len(lines) == 1 and "look equal rounded" in lines[0] and "1.00001" in lines[0]


def test_compare_never_prints_equal_looking_values_as_the_difference():
    with pytest.raises(Fail) as failure:
        compare(torch.tensor([1.0 + 1e-8], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64),
                dtype=torch.float64, what="f()")
    message = failure.value.message
    got = message.split("(got ", 1)[1].split(",", 1)[0]
    expected = message.split("expected ", 1)[1].split(")", 1)[0]
    assert got != expected
