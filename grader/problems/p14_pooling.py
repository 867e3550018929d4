"""p14: max and average pooling forward, and max-pool backward, against PyTorch.

Ties: max pooling's indices and its gradient go to the *first* maximum of a window in row-major
order (window row, then column), as PyTorch's CPU kernels do. Cases with continuous random values
have no ties; the tie cases use small integer values on purpose, so that returning the last
maximum, or routing the gradient to every maximum, fails.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import NAIVE
from grader.checks.cases import choice, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import Fail, passed
from grader.spec import Check, ProblemSpec

INDEX_RULE = ("indices are flat positions y*W + x within each (H, W) plane of the unpadded input, "
              "and a tie goes to the first maximum in row-major window order")


def out_size(size, k, s, p, d, ceil_mode) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding: PyTorch drops it
    return out


def size_formula(size, k, s, p, d, ceil_mode, dim) -> str:
    span = size + 2 * p - d * (k - 1) - 1
    rounding = "ceil" if ceil_mode else "floor"
    raw = (-(-span // s) if ceil_mode else span // s) + 1
    text = (f"{dim}_out = {rounding}(({dim} + 2*padding - dilation*(k-1) - 1) / stride) + 1 = "
            f"{rounding}(({size} + {2 * p} - {d * (k - 1)} - 1) / {s}) + 1 = {raw}")
    if ceil_mode and (raw - 1) * s >= size + p:
        text += (f", then {raw - 1} because the last window would start at padded position "
                 f"{(raw - 1) * s} >= {dim} + padding = {size + p}, outside the input and left padding")
    return text


def params(case: dict):
    kh, kw = pair(case["kernel_size"])
    stride = case["stride"] if case["stride"] is not None else case["kernel_size"]
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(case["padding"]), pair(case.get("dilation", 1))
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw)


def shape_hint(case: dict) -> str:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = params(case)
    h, w = case["x"].shape[-2:]
    ceil = case.get("ceil_mode", False)
    default = "stride=None means stride = kernel_size; " if case["stride"] is None else ""
    return default + size_formula(h, kh, sh, ph, dh, ceil, "H") + "; " + size_formula(w, kw, sw, pw, dw, ceil, "W")


def describe(index: int, seed: int, case: dict, ties: bool = False) -> str:
    n, c, h, w = case["x"].shape
    parts = [f"N={n}", f"C={c}", f"{h}x{w}", f"kernel_size {case['kernel_size']}",
             f"stride {case['stride']}" + (" (default)" if case["stride"] is None else ""),
             f"padding {case['padding']}"]
    for key in ("dilation", "ceil_mode", "count_include_pad"):
        if key in case:
            parts.append(f"{key} {case[key]}")
    if ties:
        parts.append("integer values with ties")
    parts += [str(case["x"].dtype).replace("torch.", ""), f"seed {seed}"]
    return f"case {index} ({', '.join(parts)})"


def _values(gen, shape, dtype, ties: bool, negative: bool = False) -> torch.Tensor:
    if ties:  # small integers: many windows hold their maximum more than once
        return torch.randint(-3, 4, shape, generator=gen).to(dtype)
    x = random_tensor(gen, shape, dtype)
    return x - x.max() - 1 if negative else x  # all negative: padding must not act like a 0


def make_case(gen: torch.Generator, kind: str, index: int) -> tuple[dict, bool]:
    """A pooling case and whether its values have ties. kind: 'max', 'ceil', 'indices', 'avg' or
    'backward'. Case 0 (and 1) of each kind pin the feature the check is about."""
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    kh, kw = randint(gen, 1, 3), randint(gen, 2, 3)
    kernel = choice(gen, [(kh, kw), kh + 1])
    (kh, kw) = pair(kernel)
    stride = choice(gen, [None, randint(gen, 1, 3), (randint(gen, 1, 2), randint(gen, 1, 3))])
    padding = (randint(gen, 0, kh // 2), randint(gen, 0, kw // 2))
    dilation = 1
    ceil_mode = kind == "ceil" or (kind in ("indices", "avg") and bool(randint(gen, 0, 1)))
    if kind in ("ceil", "indices"):
        dilation = choice(gen, [1, 2, (2, 1)])
    ties = kind in ("indices", "backward") and index != 1
    negative = False
    n, c = randint(gen, 1, 2), randint(gen, 1, 3)
    h = w = None
    pinned = {
        # rows and columns left over after the last window, more than the padding on each (two
        # rows, three columns), so the padded plane is not just the windows' span and a padded
        # size computed with "- 2 * padding" shows in either dimension (mutation audit survivor)
        ("max", 0): dict(kernel=(3, 4), stride=None, padding=(1, 1), h=9, w=13, negative=True),
        # every option at its default, left out of the call: a wrong default fails
        ("max", 1): dict(kernel=(2, 3), stride=None, padding=0, h=7, w=8),
        ("ceil", 0): dict(kernel=2, stride=2, padding=1, h=5, w=6),  # the dropped-last-window rule
        ("ceil", 1): dict(kernel=3, stride=2, padding=1, dilation=2, h=8, w=7),
        # the dropped-last-window rule on rows only: each dimension with its own stride
        ("ceil", 2): dict(kernel=3, stride=(2, 1), padding=(1, 1), h=6, w=7),
        # a non-square kernel whose last ceil_mode window hangs past the padded input
        ("ceil", 3): dict(kernel=(3, 2), stride=None, padding=(1, 1), h=6, w=6),
        ("indices", 0): dict(kernel=3, stride=1, padding=1, h=5, w=6, n=2, c=2, ceil=False),
        ("indices", 1): dict(kernel=3, stride=2, padding=1, dilation=2, h=7, w=8, n=2, c=2, ceil=True),
        # the last window hangs past the padded input in both dimensions
        ("avg", 0): dict(kernel=3, stride=2, padding=1, h=6, w=8, ceil=True, count_include_pad=True),
        ("avg", 1): dict(kernel=(3, 2), stride=(2, 1), padding=(1, 1), h=5, w=6, ceil=False,
                         count_include_pad=False),
        # the last column window runs past the padded input: its divisor is 2, not 3
        ("avg", 2): dict(kernel=(1, 3), stride=(2, 3), padding=(0, 1), h=5, w=6, ceil=True,
                         count_include_pad=True),
        ("avg", 3): dict(kernel=(2, 3), stride=None, padding=0, h=6, w=7, ceil=False,
                         count_include_pad=True),  # every default
        ("backward", 0): dict(kernel=3, stride=1, padding=1, h=5, w=6),
        ("backward", 1): dict(kernel=(3, 1), stride=(2, 1), padding=(1, 0), h=7, w=4),
        ("backward", 2): dict(kernel=(2, 3), stride=None, padding=0, h=7, w=8),  # every default
    }.get((kind, index))
    count_include_pad = bool(randint(gen, 0, 1))
    if pinned:
        kernel, stride, padding = pinned["kernel"], pinned["stride"], pinned["padding"]
        dilation = pinned.get("dilation", 1)
        h, w = pinned["h"], pinned["w"]
        negative = pinned.get("negative", False)
        n, c = pinned.get("n", n), pinned.get("c", c)
        ceil_mode = pinned.get("ceil", ceil_mode)
        count_include_pad = pinned.get("count_include_pad", count_include_pad)
    if kind in ("max", "backward", "avg"):
        dilation = 1
    if kind in ("max", "backward"):
        ceil_mode = False
    (kh, kw), (ph, pw), (dh, dw) = pair(kernel), pair(padding), pair(dilation)
    h = h or randint(gen, max(dh * (kh - 1) + 1 - 2 * ph, 2), 8)
    w = w or randint(gen, max(dw * (kw - 1) + 1 - 2 * pw, 2), 8)
    case = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if kind != "backward":
        case["ceil_mode"] = ceil_mode
    if kind in ("max", "ceil", "indices"):
        case["dilation"] = dilation
    if kind == "avg":
        case["count_include_pad"] = count_include_pad
    while True:  # a window made only of padding would give -inf: grow the input until none is
        case["x"] = _values(gen, (n, c, h, w), dtype, ties, negative)
        if kind == "avg" or torch.isfinite(max_reference(case)[0]).all():
            return case, ties
        h, w = h + 1, w + 1


DEFAULTS = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True}


def _kwargs(case: dict, drop=()) -> dict:
    """The case's options for the call; those at their default are left out, so the learner's
    defaults are exercised (stride=None meaning kernel_size; cases pinned with every default)."""
    return {k: v for k, v in case.items() if k not in ("x", "kernel_size") and k not in drop
            and v != DEFAULTS[k] and v != (DEFAULTS[k],) * 2}


def max_reference(case: dict):
    return F.max_pool2d(case["x"].to(torch.float64), case["kernel_size"], case["stride"], case["padding"],
                        case.get("dilation", 1), case.get("ceil_mode", False), return_indices=True)


def run_max(ctx, kind: str, count: int):
    for index in range(count):
        seed = ctx.case_seed(index)
        case, ties = make_case(torch.Generator().manual_seed(seed), kind, index)
        what = describe(index, seed, case, ties)
        expected, expected_idx = max_reference(case)
        if kind != "indices":
            got = ctx.call("max_pool2d", case["x"], case["kernel_size"], arg_names=("x",), **_kwargs(case))
            compare(got, expected, dtype=case["x"].dtype, what="max_pool2d()", case=what,
                    shape_hint=shape_hint(case))
            continue
        got = ctx.call("max_pool2d", case["x"], case["kernel_size"], arg_names=("x",),
                       return_indices=True, **_kwargs(case))
        if type(got) not in (tuple, list) or len(got) != 2:
            length = f" of length {len(got)}" if type(got) in (tuple, list) else ""
            raise Fail(f"{what}: max_pool2d(..., return_indices=True) must return a pair (values, "
                       f"indices), got {type(got).__name__}{length}")
        values, indices = got
        compare(values, expected, dtype=case["x"].dtype, what="max_pool2d() values", case=what,
                shape_hint=shape_hint(case))
        try:
            compare(indices, expected_idx, dtype=torch.int64, what="max_pool2d() indices", case=what,
                    shape_hint=shape_hint(case))
        except Fail as failure:
            raise Fail(f"{failure.message} ({INDEX_RULE})") from None
    return passed(f"{count} cases match F.max_pool2d")


def check_avg(ctx, count: int = 4):
    for index in range(count):
        seed = ctx.case_seed(index)
        case, _ = make_case(torch.Generator().manual_seed(seed), "avg", index)
        expected = F.avg_pool2d(case["x"].to(torch.float64), case["kernel_size"], case["stride"],
                                case["padding"], case["ceil_mode"], case["count_include_pad"])
        got = ctx.call("avg_pool2d", case["x"], case["kernel_size"], arg_names=("x",), **_kwargs(case))
        try:
            compare(got, expected, dtype=case["x"].dtype, what="avg_pool2d()", case=describe(index, seed, case),
                    shape_hint=shape_hint(case))
        except Fail as failure:
            raise Fail(failure.message + " (the divisor: with count_include_pad, the window's cells "
                       "inside the padded input, not past it; without, only the input's own cells)") from None
    return passed(f"{count} cases match F.avg_pool2d")


def check_backward(ctx, count: int = 3):
    for index in range(count):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        case, ties = make_case(gen, "backward", index)
        x64 = case["x"].to(torch.float64).requires_grad_()
        out = F.max_pool2d(x64, case["kernel_size"], case["stride"], case["padding"])
        grad_out = random_tensor(gen, tuple(out.shape), case["x"].dtype)
        out.backward(grad_out.to(torch.float64))
        got = ctx.call("max_pool2d_backward", grad_out, case["x"], case["kernel_size"],
                       arg_names=("grad_out", "x"), **_kwargs(case))
        try:
            compare(got, x64.grad, dtype=case["x"].dtype, what="max_pool2d_backward()",
                    case=describe(index, seed, case, ties), shape_hint="grad_x has the shape of x")
        except Fail as failure:
            raise Fail(failure.message + " (each window sends its grad_out to its first maximum only; "
                       "overlapping windows add up)") from None
    return passed(f"{count} cases match autograd through F.max_pool2d")


SPEC = ProblemSpec(
    id="p14",
    name="pooling",
    title="Max and average pooling, forward and backward",
    question=14,
    question_text="What does pooling do in a CNN, and how do max pooling and average pooling "
                  "differ in the forward and the backward pass?",
    entry_points=("max_pool2d", "avg_pool2d", "max_pool2d_backward"),
    checks=(
        Check("max_pool2d kernel, stride and padding", "correctness", 2, lambda ctx: run_max(ctx, "max", 3)),
        Check("max_pool2d ceil_mode and dilation", "correctness", 2, lambda ctx: run_max(ctx, "ceil", 5)),
        Check("max_pool2d return_indices", "correctness", 2, lambda ctx: run_max(ctx, "indices", 3)),
        Check("avg_pool2d", "correctness", 2, check_avg),
        Check("max_pool2d_backward", "correctness", 2, check_backward),
    ),
    hints=(
        "Pooling is a convolution-shaped loop with a fixed reduction instead of a learned kernel: for "
        "every output (i, j), reduce the window starting at (i*stride - padding, j*stride - padding) "
        "over all (N, C) planes at once. stride=None means stride = kernel_size.",
        "Pad max pooling with -inf, not 0 (the inputs may all be negative). Output size: "
        "floor((H + 2p - d*(k-1) - 1)/s) + 1, or ceil with ceil_mode - but then a last window that "
        "would start past H + p - 1 (in the right padding) is dropped.",
        "Indices: argmax over the flattened window (it returns the first maximum), mapped back to "
        "y*W + x in the unpadded plane. avg_pool2d's divisor: with count_include_pad, the cells of the "
        "window inside [-p, H + p); without, only cells inside [0, H). Backward: add grad_out[i, j] "
        "at the index of window (i, j)'s maximum.",
    ),
    time_limit_s=90.0,
    banned=NAIVE,
)
