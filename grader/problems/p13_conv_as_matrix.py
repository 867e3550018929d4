"""p13: convolution as a matrix (doubly block-Toeplitz), checked by what the matrix does.

The learner's matrix M comes back as plain data; here, in the parent, it must have the exact shape
(O*Ho*Wo, C*H*W), M @ x.flatten() must equal F.conv2d(x) flattened for random x, and M.T @ y must
equal F.conv_transpose2d(y). A wrong product is traced back to the first wrong matrix entry, named
by its (output channel, row, column) and (input channel, row, column).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import NAIVE
from grader.checks.cases import choice, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import Fail, passed
from grader.context import expect_tensor
from grader.spec import Check, ProblemSpec

ARG_NAMES = ("weight", "input_shape")

# One channel, 3x3 input, 2x2 kernel [[1, 2], [3, 4]]: four rows, each the kernel laid into a
# 3x3 grid at one output position and flattened. The stride-1 shift by one column (and by one
# row, three columns) is the doubly block-Toeplitz structure.
WORKED_W = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
WORKED_M = torch.tensor([
    [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0],
])


def out_size(size, k, s, p) -> int:
    return (size + 2 * p - k) // s + 1


def make_case(gen: torch.Generator, index: int, pinned: dict | None = None) -> dict:
    """A conv_matrix case; ``pinned`` fixes the hyper-parameters of case 0 (stride and padding
    non-square and > 0) so that a matrix that ignores them fails whatever the seed."""
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    o, c = randint(gen, 1, 3), randint(gen, 1, 2)
    kh, kw = randint(gen, 1, 3), randint(gen, 1, 3)
    stride = choice(gen, [1, 2, (randint(gen, 1, 2), randint(gen, 1, 3))])
    padding = choice(gen, [0, 1, (randint(gen, 0, 1), randint(gen, 0, 2))])
    if index == 0 and pinned:
        o, c, kh, kw = pinned["o"], pinned["c"], pinned["kh"], pinned["kw"]
        stride, padding = pinned["stride"], pinned["padding"]
    ph, pw = pair(padding)
    h = randint(gen, max(kh - 2 * ph, 1), 6)
    w = randint(gen, max(kw - 2 * pw, 1), 6)
    weight = random_tensor(gen, (o, c, kh, kw), dtype)
    # Sent as a torch.Size half the time (x.shape[1:]), as a plain tuple otherwise.
    input_shape = torch.Size((c, h, w)) if index % 2 else (c, h, w)
    return {"weight": weight, "input_shape": input_shape, "stride": stride, "padding": padding}


DEFAULTS = {"stride": 1, "padding": 0}
PINNED = {"o": 2, "c": 2, "kh": 3, "kw": 2, "stride": (2, 1), "padding": (1, 2)}


def expected_shape(case: dict) -> tuple[int, int]:
    o, _, kh, kw = case["weight"].shape
    c, h, w = case["input_shape"]
    (sh, sw), (ph, pw) = pair(case["stride"]), pair(case["padding"])
    return o * out_size(h, kh, sh, ph) * out_size(w, kw, sw, pw), c * h * w


def shape_hint(case: dict) -> str:
    o, _, kh, kw = case["weight"].shape
    c, h, w = case["input_shape"]
    (sh, sw), (ph, pw) = pair(case["stride"]), pair(case["padding"])
    ho, wo = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
    return (f"rows O*Ho*Wo = {o}*{ho}*{wo} = {o * ho * wo}, one per output value; columns C*H*W = "
            f"{c}*{h}*{w} = {c * h * w}, one per input value; Ho = floor((H + 2p - kH)/s) + 1 = "
            f"floor(({h} + {2 * ph} - {kh})/{sh}) + 1 = {ho}, Wo = floor(({w} + {2 * pw} - {kw})/{sw}) + 1 = {wo}")


def describe(index: int, seed: int, case: dict) -> str:
    c, h, w = case["input_shape"]
    return describe_conv(index, seed, (1, c, h, w), tuple(case["weight"].shape), case["weight"].dtype,
                         stride=case["stride"], padding=case["padding"]).replace("N=1, ", "")


def reference_matrix(case: dict) -> torch.Tensor:
    """The exact matrix, column by column: F.conv2d of every one-hot input, in float64."""
    c, h, w = case["input_shape"]
    basis = torch.eye(c * h * w, dtype=torch.float64).reshape(c * h * w, c, h, w)
    out = F.conv2d(basis, case["weight"].to(torch.float64), None, case["stride"], case["padding"])
    return out.reshape(c * h * w, -1).T


def _matrix(ctx, case: dict, what: str) -> torch.Tensor:
    # options at their default are left out (the worked example leaves out both), so the
    # learner's own defaults are exercised
    options = {k: case[k] for k in ("stride", "padding") if case[k] != DEFAULTS[k] and case[k] != (DEFAULTS[k],) * 2}
    got = ctx.call("conv_matrix", case["weight"], case["input_shape"], arg_names=ARG_NAMES, **options)
    got = expect_tensor(got, "conv_matrix()")
    rows, cols = expected_shape(case)
    if tuple(got.shape) != (rows, cols):
        hint = ""
        if tuple(got.shape) == (cols, rows):
            hint = " - that is the transpose: rows index outputs, columns index inputs"
        raise Fail(f"{what}: conv_matrix() returned shape {tuple(got.shape)}, expected ({rows}, {cols})"
                   f"{hint} ({shape_hint(case)})")
    if got.dtype != case["weight"].dtype:
        raise Fail(f"{what}: conv_matrix() returned dtype {got.dtype}, expected {case['weight'].dtype} "
                   "(keep the weight's dtype)")
    return got


def _first_wrong_entry(got: torch.Tensor, case: dict) -> str:
    ref = reference_matrix(case)
    err = (got.to(torch.float64) - ref).abs()
    tol = 1e-4 * max(ref.abs().max().item(), 1.0)
    bad = (err > tol).nonzero()
    if not len(bad):
        return ""
    r, col = (int(v) for v in bad[0])
    o = case["weight"].shape[0]
    c, h, w = case["input_shape"]
    per_o = ref.shape[0] // o
    kw = case["weight"].shape[-1]
    wo = out_size(w, kw, pair(case["stride"])[1], pair(case["padding"])[1])
    oc, rest = divmod(r, per_o)
    i, j = divmod(rest, wo)
    ic, rest = divmod(col, h * w)
    y, x = divmod(rest, w)
    return (f"; first wrong entry M[{r}, {col}] (output channel {oc}, row {i}, column {j}; input channel "
            f"{ic}, row {y}, column {x}): got {got[r, col].item():.6g}, expected {ref[r, col].item():.6g} "
            f"({len(bad)} wrong entries in all)")


def check_worked_example(ctx):
    case = {"weight": WORKED_W.clone(), "input_shape": (1, 3, 3), "stride": 1, "padding": 0}
    got = _matrix(ctx, case, "1 channel, 3x3 input, kernel [[1,2],[3,4]]")
    compare(got, WORKED_M, dtype=torch.float32, what="conv_matrix()",
            case="1 channel, 3x3 input, kernel [[1,2],[3,4]] (row r is the kernel placed at output "
                 "position r of the 2x2 output, flattened over the 3x3 input)")
    return passed("the 4x9 example matrix is right")


def check_shape(ctx, count: int = 3):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), index, PINNED)
        _matrix(ctx, case, describe(index, seed, case))
    return passed(f"{count} cases have shape (O*Ho*Wo, C*H*W)")


def check_times_input(ctx, count: int = 4, inputs: int = 3):
    """M @ x.flatten() == F.conv2d(x).flatten() for several random x per case (in float64 here)."""
    for index in range(count):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        case = make_case(gen, index, PINNED)
        what = describe(index, seed, case)
        m = _matrix(ctx, case, what)
        xs = torch.stack([random_tensor(gen, tuple(case["input_shape"]), torch.float64) for _ in range(inputs)])
        ref = F.conv2d(xs, case["weight"].to(torch.float64), None, case["stride"], case["padding"])
        product = (m.to(torch.float64) @ xs.reshape(inputs, -1).T).T.reshape(ref.shape)
        try:
            compare(product.to(m.dtype), ref, dtype=m.dtype, what="conv_matrix(w, x.shape[1:]) @ x.flatten()",
                    case=f"{what}, {inputs} random inputs x stacked on dim 0")
        except Fail as failure:
            raise Fail(failure.message + _first_wrong_entry(m, case)) from None
    return passed(f"M @ x.flatten() matches F.conv2d on {count} cases x {inputs} random inputs")


def check_transpose(ctx, count: int = 3, inputs: int = 2):
    """M.T @ y.flatten() == F.conv_transpose2d(y) (with the output_padding that restores H, W)."""
    pinned = dict(PINNED, stride=(2, 3), padding=(0, 1), kh=2, kw=3)
    for index in range(count):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        case = make_case(gen, index, pinned)
        what = describe(index, seed, case)
        m = _matrix(ctx, case, what)
        o, _, kh, kw = case["weight"].shape
        c, h, w = case["input_shape"]
        (sh, sw), (ph, pw) = pair(case["stride"]), pair(case["padding"])
        ho, wo = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
        op = (h - ((ho - 1) * sh - 2 * ph + kh), w - ((wo - 1) * sw - 2 * pw + kw))
        ys = torch.stack([random_tensor(gen, (o, ho, wo), torch.float64) for _ in range(inputs)])
        ref = F.conv_transpose2d(ys, case["weight"].to(torch.float64), None, case["stride"], case["padding"], op)
        product = (m.to(torch.float64).T @ ys.reshape(inputs, -1).T).T.reshape(ref.shape)
        try:
            compare(product.to(m.dtype), ref, dtype=m.dtype, what="conv_matrix(w, x.shape[1:]).T @ y.flatten()",
                    case=f"{what}, compared with F.conv_transpose2d(y, w, stride, padding, output_padding={op})")
        except Fail as failure:
            raise Fail(failure.message + _first_wrong_entry(m, case)) from None
    return passed(f"M.T @ y matches F.conv_transpose2d on {count} cases x {inputs} random y")


SPEC = ProblemSpec(
    id="p13",
    name="conv_as_matrix",
    title="Convolution as a matrix",
    question=13,
    question_text="How can a convolution be written as a single matrix multiplication, and what "
                  "does that view explain?",
    entry_points=("conv_matrix",),
    checks=(
        Check("worked example", "correctness", 1, check_worked_example),
        Check("matrix shape", "correctness", 1, check_shape),
        Check("matrix times input is conv2d", "correctness", 3, check_times_input),
        Check("transpose is conv_transpose2d", "correctness", 2, check_transpose),
    ),
    hints=(
        "The convolution is linear in x, so it is some matrix M. Each row of M belongs to one output "
        "value out[o, i, j]; each column to one input value x[c, y, x]; M[row, col] is the weight "
        "that multiplies that input in that output.",
        "Row index = (o*Ho + i)*Wo + j, column index = (c*H + y)*W + x (row-major flattening). The "
        "output pixel (i, j) reads input rows i*stride - padding + u for u < kH (and likewise for "
        "columns); taps that land in the padding simply have no column.",
        "Loop over o, i, j, c, u, v: y = i*s - p + u, x = j*s - p + v; when 0 <= y < H and "
        "0 <= x < W, set M[row(o, i, j), col(c, y, x)] = weight[o, c, u, v]. Start from zeros "
        "of shape (O*Ho*Wo, C*H*W) in the weight's dtype.",
    ),
    time_limit_s=90.0,
    banned=NAIVE,
)
