"""p12: the backward pass of conv2d by hand, checked against autograd in float64 (in the parent)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import CONV, POOL, UNFOLD, autograd_family, forbid
from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor, shown_value
from grader.checks.compare import compare, shown_difference
from grader.checks.shrink import shrink
from grader.checks.verdict import Fail, LearnerRaised, passed
from grader.spec import Check, ProblemSpec

_BY_HAND = "p12 asks for the gradients by hand, not from autograd"
# The naive bans, and autograd whole: the engine's entry points, every *_backward kernel (also
# when a grad_fn node is called by hand), and no graph through windows or products.
BANNED = forbid(CONV, UNFOLD, POOL, autograd_family(_BY_HAND))

ARG_NAMES = ("grad_out", "x", "weight")


def make_case(gen: torch.Generator, family: str, index: int) -> dict:
    """A small case (the guard costs ~20 µs per op, so learner loops must stay cheap)."""
    dtype = torch.float32 if (family == "plain" and index == 2) else torch.float64
    stride, padding, dilation = 1, 0, 1
    if family == "stride_padding":
        # case 1: no padding on the rows and a row stride, the other way round on the columns
        stride = {0: (2, 3), 1: (2, 1)}.get(index) or choice(gen, [2, (randint(gen, 1, 3), randint(gen, 1, 3))])
        padding = {0: (1, 2), 1: (0, 2)}.get(index) or \
            choice(gen, [randint(gen, 1, 2), (randint(gen, 0, 2), randint(gen, 0, 2))])
    elif family == "dilation":
        dilation = (2, 3) if index == 0 else choice(gen, [2, (randint(gen, 1, 3), randint(gen, 1, 2))])
        stride = (1, 2) if index == 0 else choice(gen, [1, 2, (1, 2)])  # case 0: stride and dilation together
        padding = (1, 0) if index == 0 else choice(gen, [randint(gen, 0, 2), (randint(gen, 0, 2), randint(gen, 0, 2))])
    n = 2 if index == 0 else randint(gen, 1, 2)  # the batch must be summed over in grad_weight/bias
    c_in, c_out = randint(gen, 1, 3), randint(gen, 1, 3)
    if index == 0:
        c_in, c_out = 2, 3  # O != C, so a transposed grad_weight shows in its shape
    kh, kw = (2, 3) if index == 0 else (randint(gen, 1, 3), randint(gen, 1, 3))
    (dh, dw), (ph, pw), (sh, sw) = pair(dilation), pair(padding), pair(stride)
    # Room for one window (two in case 0, so that a stride shows in every direction).
    extra_h, extra_w = (sh, sw) if index == 0 else (0, 0)
    h = randint(gen, max(dh * (kh - 1) + 1 + extra_h - 2 * ph, 3), 8)
    w = randint(gen, max(dw * (kw - 1) + 1 + extra_w - 2 * pw, 3), 9)
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_out, c_in, kh, kw), dtype)
    h_out = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    grad_out = random_tensor(gen, (n, c_out, h_out, w_out), dtype)
    return {"grad_out": grad_out, "x": x, "weight": weight, "stride": stride, "padding": padding,
            "dilation": dilation}


def reference(case: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Autograd of F.conv2d in float64: the trusted oracle."""
    x = case["x"].to(torch.float64).requires_grad_(True)
    weight = case["weight"].to(torch.float64).requires_grad_(True)
    bias = torch.zeros(weight.shape[0], dtype=torch.float64, requires_grad=True)
    out = F.conv2d(x, weight, bias, case["stride"], case["padding"], case["dilation"])
    return torch.autograd.grad(out, (x, weight, bias), case["grad_out"].to(torch.float64))


def describe(index: int, seed: int, case: dict) -> str:
    return describe_conv(index, seed, tuple(case["x"].shape), tuple(case["weight"].shape),
                         case["x"].dtype, stride=case["stride"], padding=case["padding"],
                         dilation=case["dilation"], grad_out=tuple(case["grad_out"].shape))


def _hints(case: dict) -> dict:
    n, c, h, w = case["x"].shape
    o, _, kh, kw = case["weight"].shape
    (sh, sw), (ph, pw), (dh, dw) = pair(case["stride"]), pair(case["padding"]), pair(case["dilation"])
    return {
        "grad_x": f"grad_x has x's shape (N, C, H, W) = ({n}, {c}, {h}, {w})",
        "grad_weight": f"grad_weight has weight's shape (O, C, kH, kW) = ({o}, {c}, {kh}, {kw})",
        "grad_bias": f"grad_bias is grad_out summed over N, H_out and W_out: shape (O,) = ({o},)",
        "grad_out": conv_output_formula(h, kh, sh, ph, dh, "H") + "; " + conv_output_formula(w, kw, sw, pw, dw, "W"),
    }


DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1}


def _call(ctx, case: dict):
    """Options at their default are left out (the 'plain' family leaves out all of them), so the
    learner's own defaults are exercised."""
    options = {k: case[k] for k, d in DEFAULTS.items() if case[k] != d and case[k] != (d, d)}
    return ctx.call("conv2d_backward", case["grad_out"], case["x"], case["weight"], arg_names=ARG_NAMES,
                    **options)


def _compare_all(got, case: dict, label: str) -> None:
    """Raise Fail at the first of grad_x, grad_weight, grad_bias that is wrong."""
    if type(got) not in (tuple, list) or len(got) != 3:
        what = f"{len(got)} values" if type(got) in (tuple, list) else shown_value(got)
        raise Fail(f"{label}: conv2d_backward() must return (grad_x, grad_weight, grad_bias), got {what}")
    hints = _hints(case)
    for name, value, expected in zip(("grad_x", "grad_weight", "grad_bias"), got, reference(case)):
        compare(value, expected, dtype=case["x"].dtype, what=f"conv2d_backward()'s {name}",
                case=label, shape_hint=hints[name])


def _rebuild(case: dict, **changes) -> dict | None:
    """``case`` with smaller sizes or plainer parameters; grad_out cut (or made anew) to fit."""
    new = dict(case, **{k: v for k, v in changes.items() if k in ("stride", "padding", "dilation")})
    n, c, h, w = (changes.get(k, d) for k, d in zip("nchw", case["x"].shape))
    o, kh, kw = changes.get("o", case["weight"].shape[0]), changes.get("kh", case["weight"].shape[2]), \
        changes.get("kw", case["weight"].shape[3])
    (sh, sw), (ph, pw), (dh, dw) = pair(new["stride"]), pair(new["padding"]), pair(new["dilation"])
    h_out = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if min(n, c, o, kh, kw, h, w, h_out, w_out) < 1:
        return None
    new["x"] = case["x"][:n, :c, :h, :w].contiguous()
    new["weight"] = case["weight"][:o, :c, :kh, :kw].contiguous()
    old = case["grad_out"]
    if h_out <= old.shape[2] and w_out <= old.shape[3]:
        new["grad_out"] = old[:n, :o, :h_out, :w_out].contiguous()
    else:  # the output grew (e.g. stride 1): fresh small integers
        gen = torch.Generator().manual_seed(1)
        new["grad_out"] = torch.randint(-2, 3, (n, o, h_out, w_out), generator=gen).to(old.dtype)
    return new


def _simpler(case: dict):
    """Simplifications, most valuable first: small integers, fewer dims, plain parameters."""
    n, c, h, w = case["x"].shape
    o, _, kh, kw = case["weight"].shape
    if not all(bool((case[k] == case[k].round()).all()) and case[k].abs().max() <= 2 for k in ARG_NAMES):
        gen = torch.Generator().manual_seed(0)
        yield dict(case, **{k: torch.randint(-2, 3, case[k].shape, generator=gen).to(case[k].dtype)
                            for k in ARG_NAMES})
    steps = [dict(n=1), dict(o=1), dict(c=1), dict(stride=1), dict(dilation=1), dict(padding=0),
             dict(kh=kh - 1), dict(kw=kw - 1), dict(h=h // 2), dict(w=w // 2), dict(h=h - 1), dict(w=w - 1)]
    for step in steps:
        candidate = _rebuild(case, **step)
        if candidate is not None and _shape_of(candidate) != _shape_of(case):
            yield candidate


def _shape_of(case: dict) -> tuple:
    return tuple(pair(case[k]) for k in ("stride", "padding", "dilation")) + tuple(
        tuple(case[k].shape) for k in ARG_NAMES)


def _rounded(value):
    if type(value) is torch.Tensor:
        return _rounded(value.tolist())
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 4) + 0.0 if isinstance(value, float) else value  # + 0.0: no -0.0 shown


def _smallest_failure(ctx, case: dict) -> str:
    """Shrink a failing case and show it whole, so the learner can work it by hand."""
    def still_fails(candidate) -> bool:
        try:
            _compare_all(_call(ctx, candidate), candidate, "")
        except (Fail, LearnerRaised):
            return True
        return False

    small = shrink(case, _simpler, still_fails)
    try:
        got = _call(ctx, small)
    except (Fail, LearnerRaised) as exc:
        got = str(exc)
    params = ", ".join(f"{k}={small[k]!r}" for k in ("stride", "padding", "dilation"))
    lines = [f"Smallest failing case found ({params}):"]
    lines += [f"{k} = {_rounded(small[k])}" for k in ("x", "weight", "grad_out")]
    three = type(got) in (tuple, list) and len(got) == 3
    for i, (name, expected) in enumerate(zip(("grad_x", "grad_weight", "grad_bias"), reference(small))):
        expected = expected.to(small["x"].dtype)
        lines.append(f"expected {name} = {_rounded(expected)}")
        if three:
            lines.append(f"got {name} = {_rounded(got[i]) if type(got[i]) is torch.Tensor else shown_value(got[i])}"[:2000])
            if type(got[i]) is torch.Tensor:  # a dtype, or a difference the rounding hides
                lines += [f"  {name}: {line}" for line in shown_difference(got[i], expected)]
    if not three:
        lines.append(f"got = {got!r}"[:300])
    return "\n".join(lines)


def run_cases(ctx, family: str, count: int):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, index)
        got = _call(ctx, case)  # a forbidden op fails here, with no shrinking (every case would)
        try:
            _compare_all(got, case, describe(index, seed, case))
        except Fail as failure:
            raise Fail(f"{failure.message}\n{_smallest_failure(ctx, case)}") from None
    return passed(f"{count} cases match autograd in float64 (grad_x, grad_weight, grad_bias)")


def _family(family: str, count: int):
    return lambda ctx: run_cases(ctx, family, count)


SPEC = ProblemSpec(
    id="p12",
    name="conv_backward",
    title="Conv backward by hand",
    question=12,
    question_text="Derive and implement the backward pass of a 2-D convolution: the gradients "
                  "of the loss with respect to the input, the weight and the bias.",
    entry_points=("conv2d_backward",),
    checks=(
        Check("stride 1, no padding", "correctness", 2, _family("plain", 3)),
        Check("stride and padding", "correctness", 2, _family("stride_padding", 4)),
        Check("dilation", "correctness", 2, _family("dilation", 4)),
    ),
    hints=(
        "Every output pixel out[n, o, i, j] was a sum of weight[o, c, u, v] * x_padded[n, c, "
        "i*s + u*d, j*s + v*d]. Each term sends grad_out[n, o, i, j] back to both factors.",
        "Loop over the kernel offsets (u, v), not over pixels: for a fixed (u, v) the input pixels "
        "it touched form one strided slice of the padded input, the same shape as grad_out. "
        "grad_weight[:, :, u, v] is a sum of grad_out times that slice; grad_x gets grad_out "
        "times weight[:, :, u, v] added back into the same slice.",
        "Scatter grad_x into a zero tensor the size of the *padded* input, then crop the padding "
        "off. Rows that no window reached (when stride does not divide evenly) keep gradient 0. "
        "grad_bias sums grad_out over every dimension except the channel.",
    ),
    time_limit_s=60.0,
    banned=BANNED,
)
