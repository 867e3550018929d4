"""p11: transposed convolution by scattering, checked against F.conv_transpose2d and as conv's adjoint."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import NAIVE
from grader.checks.cases import choice, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import Fail, passed
from grader.context import expect_tensor
from grader.spec import Check, ProblemSpec

ARG_NAMES = ("x", "weight", "bias")

# Each input pixel stamps a scaled copy of the kernel: with stride 2 and a 2x2 kernel the stamps
# do not overlap, so the answer is the Kronecker product, and a flipped kernel shows at once.
WORKED_X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
WORKED_W = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
WORKED_STRIDE2 = torch.tensor([[1.0, 2.0, 2.0, 4.0], [3.0, 4.0, 6.0, 8.0],
                               [3.0, 6.0, 4.0, 8.0], [9.0, 12.0, 12.0, 16.0]])
# Stride 1, kernel of ones: the stamps overlap and add up.
WORKED_STRIDE1 = torch.tensor([[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]])


def output_size(size, k, s, p, op, d) -> int:
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def output_formula(size, k, s, p, op, d, dim="H") -> str:
    return (f"{dim}_out = ({dim}-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1 = "
            f"({size}-1)*{s} - {2 * p} + {d}*{k - 1} + {op} + 1 = {output_size(size, k, s, p, op, d)}")


def shape_hint(case: dict) -> str:
    h, w = case["x"].shape[-2:]
    kh, kw = case["weight"].shape[-2:]
    (sh, sw), (ph, pw) = pair(case["stride"]), pair(case["padding"])
    (oh, ow), (dh, dw) = pair(case["output_padding"]), pair(case["dilation"])
    c_out = case["weight"].shape[1] * case["groups"]
    return (f"C_out = weight.shape[1] * groups = {c_out}; " + output_formula(h, kh, sh, ph, oh, dh, "H")
            + "; " + output_formula(w, kw, sw, pw, ow, dw, "W"))


# Case 0 of every family sets every feature where the common mistakes differ: groups 2 with two
# input and two output channels per group, a non-square kernel, and stride, padding,
# output_padding and dilation pairs whose two values differ (output_padding < stride or dilation
# on each side). (stride, padding, output_padding, dilation, kernel) per family:
CASE0 = {
    "stride_padding": ((2, 3), (1, 2), (1, 0), (2, 1), (3, 4)),
    "output_padding": ((3, 2), (1, 0), (2, 1), (1, 2), (3, 2)),
    "dilation_groups": ((2, 1), (1, 0), (1, 0), (2, 3), (2, 3)),
}


def make_case(gen: torch.Generator, family: str, index: int) -> dict:
    """A conv_transpose2d case: 'stride_padding', 'output_padding' or 'dilation_groups'.

    Case 0 sets every feature (``CASE0``), so that a submission getting any of them wrong fails
    whatever the seed; later cases vary the family's feature freely.
    """
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    groups, stride, padding, output_padding, dilation = 1, 1, 0, 0, 1
    kh, kw = randint(gen, 1, 4), randint(gen, 1, 4)
    if family == "stride_padding":
        stride = choice(gen, [randint(gen, 1, 3), (randint(gen, 1, 3), randint(gen, 1, 3))])
        padding = choice(gen, [randint(gen, 0, 2), (randint(gen, 0, 2), randint(gen, 0, 2))])
    elif family == "output_padding":
        sh, sw = randint(gen, 2, 3), randint(gen, 2, 3)
        stride = (sh, sw)
        output_padding = (randint(gen, 1, sh - 1), randint(gen, 0, sw - 1))
        padding = randint(gen, 0, 1)
    else:
        groups = randint(gen, 1, 3)
        dilation = choice(gen, [randint(gen, 1, 3), (randint(gen, 1, 3), randint(gen, 1, 2))])
        stride = choice(gen, [1, 2])
        padding = randint(gen, 0, 2)
    c_in = groups * randint(gen, 1, 2)
    c_out_per_group = randint(gen, 1, 2)
    if index == 0:  # every feature, whatever the family: see CASE0
        stride, padding, output_padding, dilation, (kh, kw) = CASE0[family]
        groups, c_in, c_out_per_group = 2, 4, 2
    h, w = randint(gen, 2, 6), randint(gen, 2, 6)
    if index == 0 and h == w:  # non-square input too
        w += 1
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    (oh, ow) = pair(output_padding)
    # The output must keep at least one pixel once `padding` is cropped from each side.
    while output_size(h, kh, sh, ph, oh, dh) < 1:
        h += 1
    while output_size(w, kw, sw, pw, ow, dw) < 1:
        w += 1
    n = randint(gen, 1, 2)
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_in, c_out_per_group, kh, kw), dtype)
    bias = random_tensor(gen, (c_out_per_group * groups,), dtype) if (index == 0 or randint(gen, 0, 2)) else None
    return {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding,
            "output_padding": output_padding, "groups": groups, "dilation": dilation}


def reference(case: dict) -> torch.Tensor:
    as64 = lambda t: None if t is None else t.to(torch.float64)  # noqa: E731
    return F.conv_transpose2d(as64(case["x"]), as64(case["weight"]), as64(case["bias"]), case["stride"],
                              case["padding"], case["output_padding"], case["groups"], case["dilation"])


def describe(index: int, seed: int, case: dict) -> str:
    # weight is (C_in, C_out/groups, kH, kW) here, so name its dims rather than read them as conv2d's.
    c_in, per_group, kh, kw = case["weight"].shape
    return describe_conv(index, seed, tuple(case["x"].shape), None, case["x"].dtype,
                         weight=f"{c_in}x{per_group}x{kh}x{kw}", out_channels=per_group * case["groups"],
                         stride=case["stride"], padding=case["padding"],
                         output_padding=case["output_padding"], dilation=case["dilation"],
                         groups=case["groups"], bias=case["bias"] is not None,
                         no_bias=case["bias"] is None)


def _call(ctx, case: dict, x=None):
    return ctx.call("conv_transpose2d", case["x"] if x is None else x, case["weight"], case["bias"],
                    arg_names=ARG_NAMES, stride=case["stride"], padding=case["padding"],
                    output_padding=case["output_padding"], groups=case["groups"],
                    dilation=case["dilation"])


def check_worked_example(ctx):
    x, w = WORKED_X[None, None].clone(), WORKED_W[None, None].clone()
    got = ctx.call("conv_transpose2d", x, w, None, arg_names=ARG_NAMES, stride=2)
    compare(got, WORKED_STRIDE2[None, None], dtype=torch.float32, what="conv_transpose2d()",
            case="x = [[1,2],[3,4]], kernel [[1,2],[3,4]], stride 2 (each pixel stamps x[i,j]*kernel "
                 "at (2i, 2j); the kernel is not flipped)")
    got = ctx.call("conv_transpose2d", x, torch.ones(1, 1, 2, 2), None, arg_names=ARG_NAMES)
    compare(got, WORKED_STRIDE1[None, None], dtype=torch.float32, what="conv_transpose2d()",
            case="x = [[1,2],[3,4]], kernel of ones 2x2, stride 1 (overlapping stamps add up)")
    return passed("the 2x2 examples give the Kronecker product and the overlapping sum")


def run_cases(ctx, family: str, count: int):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, index)
        compare(_call(ctx, case), reference(case), dtype=case["x"].dtype, what="conv_transpose2d()",
                case=describe(index, seed, case), shape_hint=shape_hint(case))
    return passed(f"{count} random cases match F.conv_transpose2d")


def family_check(family: str, count: int):
    return lambda ctx: run_cases(ctx, family, count)


def adjoint_case(gen: torch.Generator, index: int, probes: int = 4) -> tuple:
    """(the conv_transpose2d case for y, the random x probes, conv2d as a function) in float64.

    conv2d maps x-shaped tensors (C = groups * weight.shape[1] channels) to y-shaped ones; the
    case's output_padding picks the one x size (of up to `stride`) that maps back to x's size.
    """
    families = ("stride_padding", "output_padding", "dilation_groups")
    case = make_case(gen, families[index % 3], index)
    groups, w = case["groups"], case["weight"].to(torch.float64)
    (sh, sw), (ph, pw), (dh, dw) = pair(case["stride"]), pair(case["padding"]), pair(case["dilation"])
    kh, kw = w.shape[-2:]
    c = w.shape[1] * groups
    h = max(randint(gen, 3, 8), dh * (kh - 1) + 1 - 2 * ph)
    wd = max(randint(gen, 3, 8), dw * (kw - 1) + 1 - 2 * pw)
    n = randint(gen, 1, 2)
    xs = torch.stack([random_tensor(gen, (n, c, h, wd), torch.float64) for _ in range(probes)])

    def conv(t):
        return F.conv2d(t, w, None, case["stride"], case["padding"], case["dilation"], groups)

    y = random_tensor(gen, tuple(conv(xs[0]).shape), torch.float64)
    ho, wo = y.shape[-2:]
    op = (h - output_size(ho, kh, sh, ph, 0, dh), wd - output_size(wo, kw, sw, pw, 0, dw))
    return dict(case, x=y, weight=w, bias=None, output_padding=op), xs, conv


def check_adjoint(ctx, count: int = 3, probes: int = 4):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for random x, y: transposed conv is the
    adjoint (the transpose of the matrix) of conv2d with the same weight and hyper-parameters.
    The learner computes conv_transpose2d(y) once; the inner products are taken here."""
    for index in range(count):
        seed = ctx.case_seed(index)
        tcase, xs, conv = adjoint_case(torch.Generator().manual_seed(seed), index, probes)
        y, x_shape = tcase["x"], tuple(xs.shape[1:])
        what = describe(index, seed, tcase)
        got = expect_tensor(_call(ctx, tcase), "conv_transpose2d()")
        if tuple(got.shape) != x_shape or got.dtype != torch.float64:
            raise Fail(f"{what}: conv_transpose2d(y) must have the shape of x = {x_shape} and dtype "
                       f"float64, got {tuple(got.shape)} {got.dtype} ({shape_hint(tcase)})")
        for k in range(probes):
            lhs = float((conv(xs[k]) * y).sum())
            rhs = float((xs[k] * got).sum())
            # Tolerance relative to the size of the terms summed, so cancellation cannot hide a bug.
            scale = float((xs[k] * got).abs().sum()) + float((conv(xs[k]) * y).abs().sum())
            if not abs(lhs - rhs) <= 1e-9 * max(scale, 1e-30):
                raise Fail(f"{what}: the adjoint identity fails for random x number {k}: "
                           f"<conv2d(x, w), y> = {lhs:.6g} but <x, conv_transpose2d(y, w)> = {rhs:.6g}. "
                           "Transposed conv must send each y pixel back along exactly the weights "
                           "conv2d used to produce it (same weight, no flip, same stride, padding, "
                           "dilation and groups)")
    return passed(f"<conv2d(x), y> = <x, conv_transpose2d(y)> on {count} cases x {probes} random inputs")


SPEC = ProblemSpec(
    id="p11",
    name="conv_transpose",
    title="Transposed convolution by scattering",
    question=11,
    question_text="What is a transposed convolution, and how does it relate to an ordinary convolution?",
    entry_points=("conv_transpose2d",),
    checks=(
        Check("worked example", "correctness", 1, check_worked_example),
        Check("stride and padding", "correctness", 2, family_check("stride_padding", 4)),
        Check("output_padding", "correctness", 2, family_check("output_padding", 3)),
        Check("dilation and groups", "correctness", 2, family_check("dilation_groups", 4)),
        Check("adjoint of conv2d", "correctness", 2, check_adjoint),
    ),
    hints=(
        "Turn the gather of conv2d around: instead of asking which inputs feed an output pixel, "
        "let every input pixel x[n, c, i, j] add x[n, c, i, j] * weight[c] into the output.",
        "Input pixel (i, j) lands with its kernel's top-left at (i*stride, j*stride) of a full "
        "output, kernel taps dilation apart. Compute that full output, then crop `padding` from "
        "each side; output_padding only adds rows/columns at the bottom/right.",
        "weight is (C_in, C_out/groups, kH, kW): input channel c of group g = c // (C_in/groups) "
        "writes output channels [g*C_out/groups, (g+1)*C_out/groups). The kernel is not flipped. "
        "Full size (H-1)*s + d*(k-1) + 1 + output_padding; keep [p, p + H_out).",
    ),
    time_limit_s=90.0,
    banned=NAIVE,
)
