"""Random conv2d cases shared by every problem with F.conv2d semantics (p01, p07)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import passed

ARG_NAMES = ("x", "weight", "bias")


def make_case(gen: torch.Generator, family: str, max_hw: int = 9, index: int = 0) -> dict:
    """One conv2d case of a family: 'stride_padding', 'padding_modes' or 'dilation_groups'.

    Case 0 of each family always has the family's feature at its most telling (non-square,
    stride and padding > 1, 'same' with an even kernel, groups and dilation > 1), so whatever
    the seed a submission that ignores the feature fails; later cases are freely random.
    Even-indexed cases are float32, odd ones float64.
    """
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    groups = 1
    if family == "dilation_groups":
        groups = randint(gen, 1, 3)
    c_in = groups * randint(gen, 1, 2)
    c_out = groups * randint(gen, 1, 2)
    kh, kw = randint(gen, 1, 4), randint(gen, 1, 4)
    stride, dilation, padding = 1, 1, 0
    if family == "stride_padding":
        stride = choice(gen, [randint(gen, 1, 3), (randint(gen, 1, 3), randint(gen, 1, 3))])
        padding = choice(gen, [randint(gen, 0, 2), (randint(gen, 0, 2), randint(gen, 0, 2))])
    elif family == "padding_modes":
        padding = choice(gen, ["same", "valid", "same"])
        kh, kw = choice(gen, [(randint(gen, 1, 2) * 2 + 1, randint(gen, 1, 2) * 2), (2, 2), (3, 4), (4, 1)])
        dilation = choice(gen, [1, 1, 2])
        if index == 0:
            padding, kh, kw, dilation = "same", 3, 4, 1
        elif index == 1:
            padding = "valid"
    else:
        dilation = choice(gen, [randint(gen, 1, 3), (randint(gen, 1, 3), randint(gen, 1, 2))])
        stride = choice(gen, [1, 2])
        padding = randint(gen, 0, 2)
    if index == 0 and family == "dilation_groups":
        groups, c_in, c_out, dilation, kh, kw = 2, 4, 2, (2, 3), 2, 2
    if index == 0 and family == "stride_padding":
        stride, padding, kh, kw = (2, 3), (1, 2), 3, 2
    dh, dw = pair(dilation)
    h = randint(gen, dh * (kh - 1) + 1, max_hw)
    w = randint(gen, dw * (kw - 1) + 1, max_hw)
    n = randint(gen, 1, 2)
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_out, c_in // groups, kh, kw), dtype)
    bias = random_tensor(gen, (c_out,), dtype) if (index == 0 or randint(gen, 0, 2)) else None
    return {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding,
            "dilation": dilation, "groups": groups}


def reference(case: dict) -> torch.Tensor:
    as64 = lambda t: None if t is None else t.to(torch.float64)  # noqa: E731
    return F.conv2d(as64(case["x"]), as64(case["weight"]), as64(case["bias"]), case["stride"],
                    case["padding"], case["dilation"], case["groups"])


def describe(index: int, seed: int, case: dict) -> str:
    return describe_conv(index, seed, tuple(case["x"].shape), tuple(case["weight"].shape),
                         case["x"].dtype, stride=case["stride"], padding=case["padding"],
                         dilation=case["dilation"], groups=case["groups"],
                         bias=case["bias"] is not None, no_bias=case["bias"] is None)


def shape_hint(case: dict) -> str:
    if isinstance(case["padding"], str):
        return f"padding={case['padding']!r}: 'same' keeps H and W, 'valid' means no padding"
    h, w = case["x"].shape[-2:]
    kh, kw = case["weight"].shape[-2:]
    (sh, sw), (ph, pw), (dh, dw) = pair(case["stride"]), pair(case["padding"]), pair(case["dilation"])
    return (conv_output_formula(h, kh, sh, ph, dh, "H") + "; "
            + conv_output_formula(w, kw, sw, pw, dw, "W"))


def run_cases(ctx, entry: str, family: str, count: int, max_hw: int = 9):
    """Call ``entry`` on ``count`` fresh cases of ``family`` and compare with F.conv2d in float64."""
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, max_hw, index)
        got = ctx.call(entry, case["x"], case["weight"], case["bias"], arg_names=ARG_NAMES,
                       stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                       groups=case["groups"])
        compare(got, reference(case), dtype=case["x"].dtype, what=f"{entry}()",
                case=describe(index, seed, case), shape_hint=shape_hint(case))
    return passed(f"{count} random cases match F.conv2d")


def conv_family_check(entry: str, family: str, count: int, max_hw: int = 9):
    return lambda ctx: run_cases(ctx, entry, family, count, max_hw)
