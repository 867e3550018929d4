"""p01: what convolution is, computed with loops."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import NAIVE
from grader.checks.cases import describe_conv, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import passed
from grader.problems.conv_cases import conv_family_check
from grader.spec import Check, ProblemSpec

# The articles' worked example: 3x3 input 1..9, 2x2 kernel of ones. Their printed answer is
# wrong; the valid cross-correlation is [[12, 16], [24, 28]].
WORKED_IMAGE = torch.arange(1.0, 10.0).reshape(3, 3)
WORKED_KERNEL = torch.ones(2, 2)
WORKED_ANSWER = torch.tensor([[12.0, 16.0], [24.0, 28.0]])
# A kernel that is not symmetric, so a missing flip shows: conv = corr with the kernel turned 180°.
ASYMMETRIC_KERNEL = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
ASYMMETRIC_CONV = torch.tensor([[23.0, 33.0], [53.0, 63.0]])


def check_worked_example(ctx):
    got = ctx.call("cross_correlate2d", WORKED_IMAGE.clone(), WORKED_KERNEL.clone(),
                   arg_names=("image", "kernel"))
    compare(got, WORKED_ANSWER, dtype=torch.float32, what="cross_correlate2d()",
            case="the articles' worked example (3x3 input 1..9, 2x2 kernel of ones; their printed answer is wrong)")
    got = ctx.call("convolve2d", WORKED_IMAGE.clone(), ASYMMETRIC_KERNEL.clone(), arg_names=("image", "kernel"))
    compare(got, ASYMMETRIC_CONV, dtype=torch.float32, what="convolve2d()",
            case="3x3 input 1..9, kernel [[1,2],[3,4]] (convolution flips the kernel)")
    return passed("cross_correlate2d gives [[12,16],[24,28]]; convolve2d flips the kernel")


def _two_d_cases(ctx, entry: str, flip: bool, count: int):
    for index in range(count):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        dtype = torch.float64 if index % 2 else torch.float32
        h, w = randint(gen, 3, 9), randint(gen, 3, 9)
        kh, kw = randint(gen, 1, h), randint(gen, 1, w)
        if index == 0:  # always one clearly non-square, non-symmetric case
            h, w, kh, kw = 6, 8, 2, 3
        image, kernel = random_tensor(gen, (h, w), dtype), random_tensor(gen, (kh, kw), dtype)
        k64 = kernel.to(torch.float64)
        expected = F.conv2d(image.to(torch.float64)[None, None], (k64.flip(0, 1) if flip else k64)[None, None])[0, 0]
        got = ctx.call(entry, image, kernel, arg_names=("image", "kernel"))
        compare(got, expected, dtype=dtype, what=f"{entry}()",
                case=describe_conv(index, seed, (h, w), (kh, kw), dtype),
                shape_hint=f"'valid' output is (H - kH + 1, W - kW + 1) = ({h - kh + 1}, {w - kw + 1})")
    return passed(f"{count} random cases match")


SPEC = ProblemSpec(
    id="p01",
    name="conv2d_naive",
    title="Convolution with loops",
    question=1,
    question_text="What is the convolution operation, and what does it do in deep learning?",
    entry_points=("cross_correlate2d", "convolve2d", "conv2d"),
    checks=(
        Check("worked example", "correctness", 1, check_worked_example),
        Check("cross_correlate2d", "correctness", 2, lambda ctx: _two_d_cases(ctx, "cross_correlate2d", False, 4)),
        Check("convolve2d flips the kernel", "correctness", 1, lambda ctx: _two_d_cases(ctx, "convolve2d", True, 3)),
        Check("conv2d stride and padding", "correctness", 2, conv_family_check("conv2d", "stride_padding", 5)),
        Check("conv2d 'valid' and 'same' padding", "correctness", 1, conv_family_check("conv2d", "padding_modes", 4)),
        Check("dilation and groups", "correctness", 2, conv_family_check("conv2d", "dilation_groups", 5)),
    ),
    hints=(
        "Each output pixel is a dot product between the kernel and the input window under it. "
        "Start with cross_correlate2d: two loops over output positions.",
        "For conv2d, pad first, then for every output (i, j) take the window starting at "
        "(i*stride, j*stride) with rows and columns step `dilation` apart. Groups split the input "
        "and output channels into `groups` independent slices.",
        "Output size: floor((H + 2p - d*(k-1) - 1)/s) + 1. 'same' pads d*(k-1) in total, with the "
        "extra pixel after when the total is odd. With groups g, output channel o reads input "
        "channels [(o // (O/g)) * C/g, ... + C/g).",
    ),
    time_limit_s=90.0,
    banned=NAIVE,
)
