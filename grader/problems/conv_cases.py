"""Random conv2d cases shared by every problem with F.conv2d semantics (p01, p07)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare, shown_difference
from grader.checks.shrink import shrink
from grader.checks.verdict import Fail, LearnerNotImplemented, LearnerRaised, passed

ARG_NAMES = ("x", "weight", "bias")


# Case 0 of every family sets every feature where the common mistakes differ, whatever the seed:
# groups 2 with 2 input and 2 output channels per group (so `o % groups` and `o // (O/groups)`
# disagree), a non-square input and kernel, and stride, padding and dilation pairs whose two
# values differ (so a swapped pair shows). The family decides what varies around it.
CASE0 = {
    # F.conv2d semantics allow 'same' only with stride 1; dilation (3, 1) with a 2x4 kernel gives
    # odd totals 3 and 3 (the extra pixel after shows), and swapping the dilation changes the shape.
    "padding_modes": {"stride": 1, "padding": "same", "dilation": (3, 1), "kernel": (2, 4)},
    "stride_padding": {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1), "kernel": (3, 2)},
    "dilation_groups": {"stride": (1, 2), "padding": (2, 1), "dilation": (2, 3), "kernel": (2, 3)},
}
# Case 1 of every family leaves every optional argument out of the call (or, for padding modes,
# all but padding='valid'), so a wrong default (stride=2, padding=-1, dilation=2, groups=2) fails.
DEFAULTS = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}


def make_case(gen: torch.Generator, family: str, max_hw: int = 9, index: int = 0) -> dict:
    """One conv2d case of a family: 'stride_padding', 'padding_modes' or 'dilation_groups'.

    Case 0 sets every feature at its most telling (``CASE0``: groups 2 with two channels per
    group, non-square input and kernel, pairs with different values, bias), so whatever the seed
    a submission that gets any feature wrong fails; case 1 uses every default; case 2 is a 1x1
    kernel, with stride (2, 1) in 'stride_padding' and with groups 2 (three channels per group,
    batch 3) and padding in 'dilation_groups'; case 3 of 'stride_padding' is a 1x1 kernel with
    stride 2; later cases are freely random. Even-indexed cases are float32, odd ones float64.
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
        dilation = choice(gen, [1, 1, 2, (2, 1), (1, 3)])
    else:
        dilation = choice(gen, [randint(gen, 1, 3), (randint(gen, 1, 3), randint(gen, 1, 2))])
        stride = choice(gen, [1, 2, (2, 1)])
        padding = choice(gen, [randint(gen, 0, 2), (randint(gen, 0, 2), randint(gen, 0, 2))])
    if index == 0:
        fixed = CASE0[family]
        stride, padding, dilation, (kh, kw) = fixed["stride"], fixed["padding"], fixed["dilation"], fixed["kernel"]
        groups, c_in, c_out = 2, 4, 4
    elif index == 1:
        stride, dilation, groups = 1, 1, 1
        padding = "valid" if family == "padding_modes" else 0
        c_in, c_out = randint(gen, 1, 3), randint(gen, 1, 3)
    elif index == 2 and family == "stride_padding":
        # a 1x1 kernel with a stride pair: a 1x1 fast path taken whenever one stride is 1 shows
        stride, padding, dilation, (kh, kw) = (2, 1), 1, (2, 1), (1, 1)
    elif index == 3 and family == "stride_padding":
        # a 1x1 kernel with equal strides (2, 2): a fast path taken for sh == sw whatever they are
        stride, padding, dilation, (kh, kw) = 2, 0, 1, (1, 1)
    elif index == 2 and family == "dilation_groups":
        # a 1x1 stride-1 kernel with groups 2 (three input channels per group: not the group
        # count) over a batch of 2, and padding: the case a 1x1 fast path (a plain reshape of x,
        # no im2col) must get right; batch, groups and channels-per-group all differ, so a reshape
        # that swaps any two of them shows (mutation audit survivors, p07)
        stride, padding, dilation, (kh, kw) = 1, (2, 1), 1, (1, 1)
        groups, c_in, c_out = 2, 6, 4
    dh, dw = pair(dilation)
    # At least one full (dilated) window; a large dilated kernel may need more than max_hw.
    h = randint(gen, dh * (kh - 1) + 1, max(dh * (kh - 1) + 1, max_hw))
    w = randint(gen, dw * (kw - 1) + 1, max(dw * (kw - 1) + 1, max_hw))
    if index == 0 and h == w:  # a non-square input, so swapped H and W show
        w += 1
    n = 3 if index == 2 and family == "dilation_groups" else randint(gen, 1, 2)
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_out, c_in // groups, kh, kw), dtype)
    with_bias = index == 0 or (index > 1 and randint(gen, 0, 2))
    bias = random_tensor(gen, (c_out,), dtype) if with_bias else None
    return {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding,
            "dilation": dilation, "groups": groups}


def features(case: dict) -> list[str]:
    """The features a case sets, in words, for messages ('stride (2, 3)', 'groups 2 with 2 output
    channels per group', ...): a failing bundled case must not be blamed on one of them."""
    x, weight = case["x"], case["weight"]
    names = []
    if x.shape[-2] != x.shape[-1]:
        names.append(f"non-square input {x.shape[-2]}x{x.shape[-1]}")
    if weight.shape[-2] != weight.shape[-1]:
        names.append(f"non-square kernel {weight.shape[-2]}x{weight.shape[-1]}")
    for key in ("stride", "padding", "dilation"):
        value = case[key]
        if value != DEFAULTS[key] and value != (DEFAULTS[key],) * 2:
            names.append(f"{key} {value!r}")
    if case["groups"] > 1:
        names.append(f"groups {case['groups']} with {weight.shape[0] // case['groups']} output channel(s) "
                     "per group")
    if case["bias"] is not None:
        names.append("bias")
    return names


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
    """Call ``entry`` with the case's options; those at their default are left out, so the
    learner's own defaults are exercised (case 1 of each family leaves out all of them)."""
    options = {k: case[k] for k in ("stride", "padding", "dilation", "groups")
               if case[k] != DEFAULTS[k] and case[k] != (DEFAULTS[k],) * 2}
    args = (case["x"], case["weight"]) + (() if case["bias"] is None else (case["bias"],))
    return ctx.call(entry, *args, arg_names=ARG_NAMES, **options)


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
    # every option plain at once first: most bugs need one or two features, and case 0 sets all
    # of them, so one step here saves a dozen calls below (the budget is in calls and seconds)
    steps = [dict(n=1, bias=None, stride=1, dilation=1, padding=0), dict(n=1, bias=None, stride=1, dilation=1),
             dict(n=1), dict(groups=1, c=c // case["groups"], o=o // case["groups"]),
             dict(o=case["groups"]), dict(c=case["groups"]), dict(bias=None),
             dict(stride=1), dict(dilation=1), dict(padding=0), dict(kh=1, kw=1), dict(kh=1), dict(kw=1),
             dict(kh=max(1, kh - 1)),
             dict(kw=max(1, kw - 1)), dict(h=h - 1), dict(w=w - 1), dict(h=max(1, h // 2)),
             dict(w=max(1, w // 2))]
    if not _integral(x):  # small integers early: they make every later candidate readable
        gen = torch.Generator().manual_seed(0)
        small = lambda t: None if t is None else torch.randint(-2, 3, t.shape, generator=gen).to(t.dtype)  # noqa: E731
        yield dict(case, x=small(x), weight=small(weight), bias=small(case["bias"]))
    for key in ("stride", "padding", "dilation"):  # one side of a pair: shows which side matters
        value = case[key]
        if isinstance(value, tuple) and value[0] != value[1]:
            steps += [{key: (DEFAULTS[key], value[1])}, {key: (value[0], DEFAULTS[key])}]
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
    return round(values, 4) + 0.0 if isinstance(values, float) else values  # + 0.0: no -0.0 shown


def _show(t):
    return None if t is None else _round(t.tolist())


def _render(case: dict, got) -> str:
    params = ", ".join(f"{k}={case[k]!r}" for k in ("stride", "padding", "dilation", "groups"))
    needs = features(dict(case, x=case["x"][..., :1, :1]))  # the sizes are shown whole below
    expected = reference(case).to(case["x"].dtype)
    parts = [f"Smallest failing case found ({params}; the failure needs: "
             f"{', '.join(needs) or 'none of stride, padding, dilation, groups, bias'}):",
             f"x = {_show(case['x'])}", f"weight = {_show(case['weight'])}", f"bias = {_show(case['bias'])}",
             f"expected = {_show(expected)}"]
    if type(got) is torch.Tensor:
        parts += [f"got = {_show(got)}"] + shown_difference(got, expected)
    else:
        parts.append(f"got = {got!s}"[:300])
    return "\n".join(parts)


def _fails(ctx, entry: str, case: dict) -> bool:
    try:
        compare(_call(ctx, entry, case), reference(case), dtype=case["x"].dtype, what=entry)
    except (Fail, LearnerRaised, LearnerNotImplemented):
        return True
    return False


def _smallest_failure(ctx, entry: str, case: dict) -> str:
    small = shrink(case, _simpler, lambda candidate: _fails(ctx, entry, candidate))
    try:
        got = _call(ctx, entry, small)
    except (Fail, LearnerRaised, LearnerNotImplemented) as exc:
        got = f"{exc}" if not isinstance(exc, LearnerNotImplemented) else f"NotImplementedError: {exc}"
    return _render(small, got)


def plain_case(case: dict) -> dict:
    """The simplest case of the same dtype: 1x1x3x3 input, 2x2 kernel, every default."""
    gen = torch.Generator().manual_seed(0)
    dtype = case["x"].dtype
    return {"x": random_tensor(gen, (1, 1, 3, 3), dtype), "weight": random_tensor(gen, (1, 1, 2, 2), dtype),
            "bias": None, **{k: DEFAULTS[k] for k in ("stride", "padding", "dilation", "groups")}}


def feature_not_implemented(ctx, entry: str, case: dict, where: str, exc: LearnerNotImplemented):
    """A NotImplementedError on one case: if ``entry`` runs on a plain case, one of the features
    this case sets is unimplemented, and the check fails naming them (the rest of the problem is
    not 'not started'); if the plain case raises too, ``entry`` itself is not started."""
    try:
        _call(ctx, entry, plain_case(case))
    except LearnerNotImplemented:
        raise exc from None
    except (Fail, LearnerRaised):
        pass
    def raises(candidate) -> bool:
        try:
            _call(ctx, entry, candidate)
        except LearnerNotImplemented:
            return True
        except (Fail, LearnerRaised):
            pass
        return False

    # the features the NotImplementedError still needs once every other one is taken away
    small = shrink(case, _simpler, raises, max_calls=60)
    needs = features(dict(small, x=small["x"][..., :1, :1]))  # the input's size is not a feature
    raise Fail(f"{where}: {entry}() raised NotImplementedError ({exc}) although it runs on a plain "
               f"case; this case sets: {', '.join(features(case)) or 'nothing beyond the defaults'}; "
               f"it still raises with only: {', '.join(needs) or 'the sizes of this case'}, so that is "
               "what is not implemented yet") from None


def run_cases(ctx, entry: str, family: str, count: int, max_hw: int = 9):
    """Call ``entry`` on ``count`` fresh cases of ``family`` and compare with F.conv2d in float64.
    On the first failure, shrink it and show the smallest failing case whole, with the features
    it needs (case 0 bundles them all)."""
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, max_hw, index)
        where = describe(index, seed, case)
        try:
            got = _call(ctx, entry, case)
        except LearnerNotImplemented as exc:
            feature_not_implemented(ctx, f"{entry}", case, where, exc)
        try:
            compare(got, reference(case), dtype=case["x"].dtype, what=f"{entry}()",
                    case=where, shape_hint=shape_hint(case))
        except Fail as failure:
            sets = features(case)
            bundle = f"\nThis case sets: {', '.join(sets)}." if len(sets) > 1 else ""
            raise Fail(f"{failure.message}{bundle}\n{_smallest_failure(ctx, entry, case)}") from None
    return passed(f"{count} random cases match F.conv2d")


def conv_family_check(entry: str, family: str, count: int, max_hw: int = 9):
    return lambda ctx: run_cases(ctx, entry, family, count, max_hw)
