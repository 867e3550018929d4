"""Random conv2d cases shared by every problem with F.conv2d semantics (p01, p07)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.shrink import shrink
from grader.checks.verdict import Fail, LearnerRaised, passed

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
    # At least one full (dilated) window; a large dilated kernel may need more than max_hw.
    h = randint(gen, dh * (kh - 1) + 1, max(dh * (kh - 1) + 1, max_hw))
    w = randint(gen, dw * (kw - 1) + 1, max(dw * (kw - 1) + 1, max_hw))
    n = randint(gen, 1, 2)
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_out, c_in // groups, kh, kw), dtype)
    bias = random_tensor(gen, (c_out,), dtype) if (index == 0 or randint(gen, 0, 2)) else None
    return {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding,
            "dilation": dilation, "groups": groups}


def reference(case: dict) -> torch.Tensor:
    as64 = lambda t: None if t is None else t.to(torch.float64)  # noqa: E731
    with warnings.catch_warnings():  # 'same' with an even kernel warns about a padded copy
        warnings.simplefilter("ignore", UserWarning)
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


def _call(ctx, entry: str, case: dict):
    return ctx.call(entry, case["x"], case["weight"], case["bias"], arg_names=ARG_NAMES,
                    stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                    groups=case["groups"])


def _rebuild(case: dict, **changes) -> dict | None:
    """``case`` with some parameters or sizes changed, tensors cut to fit; None if invalid."""
    new = dict(case, **{k: v for k, v in changes.items() if k not in ("n", "c", "o", "h", "w", "kh", "kw")})
    x, weight, bias = case["x"], case["weight"], new["bias"]
    g = new["groups"]
    n = changes.get("n", x.shape[0])
    c = changes.get("c", x.shape[1])
    o = changes.get("o", weight.shape[0])
    kh, kw = changes.get("kh", weight.shape[2]), changes.get("kw", weight.shape[3])
    h, w = changes.get("h", x.shape[2]), changes.get("w", x.shape[3])
    if c % g or o % g or min(n, c, o, kh, kw, h, w) < 1:
        return None
    (dh, dw) = pair(new["dilation"])
    if h < dh * (kh - 1) + 1 or w < dw * (kw - 1) + 1:
        return None
    new["x"] = x[:n, :c, :h, :w].contiguous()
    new["weight"] = weight[:o, : c // g, :kh, :kw].contiguous()
    new["bias"] = None if bias is None else bias[:o].contiguous()
    try:
        reference(new)
    except RuntimeError:  # e.g. 'same' with stride > 1: not a case PyTorch accepts
        return None
    return new


def _simpler(case: dict):
    """Simplifications, most valuable first: fewer dims, plain parameters, small integers."""
    x, weight = case["x"], case["weight"]
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    steps = [dict(n=1), dict(groups=1, c=c // case["groups"], o=o // case["groups"]),
             dict(o=case["groups"]), dict(c=case["groups"]), dict(bias=None),
             dict(stride=1), dict(dilation=1), dict(padding=0), dict(kh=max(1, kh - 1)),
             dict(kw=max(1, kw - 1)), dict(h=h - 1), dict(w=w - 1), dict(h=max(1, h // 2)),
             dict(w=max(1, w // 2))]
    if not _integral(x):  # small integers early: they make every later candidate readable
        gen = torch.Generator().manual_seed(0)
        small = lambda t: None if t is None else torch.randint(-2, 3, t.shape, generator=gen).to(t.dtype)  # noqa: E731
        yield dict(case, x=small(x), weight=small(weight), bias=small(case["bias"]))
    for step in steps:
        if step.get("groups") == 1 and case["groups"] == 1:
            continue
        candidate = _rebuild(case, **step)
        if candidate is not None and not _same_case(candidate, case):
            yield candidate


def _integral(t: torch.Tensor) -> bool:
    return bool((t == t.round()).all()) and t.abs().max() <= 2


def _same_case(a: dict, b: dict) -> bool:
    keys = ("stride", "padding", "dilation", "groups")
    return all(a[k] == b[k] for k in keys) and a["x"].shape == b["x"].shape and \
        a["weight"].shape == b["weight"].shape and (a["bias"] is None) == (b["bias"] is None)


def _round(values):
    if isinstance(values, list):
        return [_round(v) for v in values]
    return round(values, 4) if isinstance(values, float) else values


def _render(case: dict, got) -> str:
    params = ", ".join(f"{k}={case[k]!r}" for k in ("stride", "padding", "dilation", "groups"))
    show = lambda t: None if t is None else _round(t.tolist())  # noqa: E731
    parts = [f"Smallest failing case found ({params}):", f"x = {show(case['x'])}",
             f"weight = {show(case['weight'])}", f"bias = {show(case['bias'])}",
             f"expected = {show(reference(case).to(case['x'].dtype))}"]
    parts.append(f"got = {show(got)}" if type(got) is torch.Tensor else f"got = {got!r}"[:300])
    return "\n".join(parts)


def _smallest_failure(ctx, entry: str, case: dict) -> str:
    def still_fails(candidate) -> bool:
        try:
            compare(_call(ctx, entry, candidate), reference(candidate), dtype=candidate["x"].dtype, what=entry)
        except (Fail, LearnerRaised):
            return True
        return False

    small = shrink(case, _simpler, still_fails)
    try:
        got = _call(ctx, entry, small)
    except (Fail, LearnerRaised) as exc:
        got = f"{exc}"
    return _render(small, got)


def run_cases(ctx, entry: str, family: str, count: int, max_hw: int = 9):
    """Call ``entry`` on ``count`` fresh cases of ``family`` and compare with F.conv2d in float64.
    On the first failure, shrink it and show the smallest failing case whole."""
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, max_hw, index)
        got = _call(ctx, entry, case)
        try:
            compare(got, reference(case), dtype=case["x"].dtype, what=f"{entry}()",
                    case=describe(index, seed, case), shape_hint=shape_hint(case))
        except Fail as failure:
            raise Fail(f"{failure.message}\n{_smallest_failure(ctx, entry, case)}") from None
    return passed(f"{count} random cases match F.conv2d")


def conv_family_check(entry: str, family: str, count: int, max_hw: int = 9):
    return lambda ctx: run_cases(ctx, entry, family, count, max_hw)
