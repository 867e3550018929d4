"""p04: why depthwise-separable convolution is cheaper, counted exactly.

The oracle is PyTorch itself, in the parent: parameter counts come from real ``nn.Conv2d``
modules and MACs from ``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 FLOPs per
multiply-add and does not count the bias add). Modules live on the ``meta`` device, so a
256-channel layer costs nothing to build. The learner's functions are called in the worker, all
cases of a check in one round trip (``ctx.call_many``), and must return exact Python ints.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from grader.checks.cases import choice, int_advice, pair, randint, shown_value
from grader.checks.verdict import Fail, LearnerRaised, passed
from grader.spec import Check, ProblemSpec

RATIO_RTOL = 1e-6  # cost_ratio is a float: any exact formula lands far inside this


# -- parent side: the oracle ----------------------------------------------------------------
def _flops(module: nn.Module, in_ch: int, in_h: int, in_w: int) -> tuple[int, tuple]:
    x = torch.empty(1, in_ch, in_h, in_w, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = module(x)
    return counter.get_total_flops(), tuple(out.shape[-2:])


def _conv(in_ch, out_ch, k, groups=1, bias=True):
    return nn.Conv2d(in_ch, out_ch, pair(k), groups=groups, bias=bias, device="meta")


def _separable(in_ch, out_ch, k, bias=True, m=1):
    return nn.Sequential(nn.Conv2d(in_ch, in_ch * m, pair(k), groups=in_ch, bias=bias, device="meta"),
                         nn.Conv2d(in_ch * m, out_ch, 1, bias=bias, device="meta"))


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _macs(module: nn.Module, in_ch: int, k, out_h: int, out_w: int) -> int:
    """MACs for one image whose (unpadded, stride-1) output is out_h x out_w."""
    kh, kw = pair(k)
    flops, out_hw = _flops(module, in_ch, out_h + kh - 1, out_w + kw - 1)
    assert out_hw == (out_h, out_w) and flops % 2 == 0, (out_hw, flops)
    return flops // 2


def conv_params_expected(c):
    kh, kw = pair(c["kernel_size"])
    weight = c["out_ch"] * (c["in_ch"] // c["groups"]) * kh * kw
    bias = c["out_ch"] if c["bias"] else 0
    total = _count(_conv(c["in_ch"], c["out_ch"], c["kernel_size"], c["groups"], c["bias"]))
    assert total == weight + bias
    return total, f"weight out_ch*(in_ch/groups)*kH*kW = {weight} + bias {bias}"


def conv_macs_expected(c):
    kh, kw = pair(c["kernel_size"])
    total = _macs(_conv(c["in_ch"], c["out_ch"], c["kernel_size"], c["groups"], False),
                  c["in_ch"], c["kernel_size"], c["out_h"], c["out_w"])
    assert total == c["out_h"] * c["out_w"] * c["out_ch"] * (c["in_ch"] // c["groups"]) * kh * kw
    return total, (f"out_h*out_w*out_ch*(in_ch/groups)*kH*kW = {c['out_h']}*{c['out_w']}*{c['out_ch']}*"
                   f"{c['in_ch'] // c['groups']}*{kh}*{kw}; the bias add is not a multiply-add")


def separable_params_expected(c):
    kh, kw = pair(c["kernel_size"])
    mid = c["in_ch"] * c["depth_multiplier"]
    parts = [mid * kh * kw, mid if c["bias"] else 0, mid * c["out_ch"], c["out_ch"] if c["bias"] else 0]
    total = _count(_separable(c["in_ch"], c["out_ch"], c["kernel_size"], c["bias"], c["depth_multiplier"]))
    assert total == sum(parts)
    return total, (f"depthwise weight in_ch*m*kH*kW = {parts[0]} + depthwise bias in_ch*m = {parts[1]} + "
                   f"pointwise weight in_ch*m*out_ch = {parts[2]} + pointwise bias out_ch = {parts[3]}")


def separable_macs_expected(c):
    kh, kw = pair(c["kernel_size"])
    mid = c["in_ch"] * c["depth_multiplier"]
    model = _separable(c["in_ch"], c["out_ch"], c["kernel_size"], False, c["depth_multiplier"])
    total = _macs(model, c["in_ch"], c["kernel_size"], c["out_h"], c["out_w"])
    hw = c["out_h"] * c["out_w"]
    assert total == hw * mid * kh * kw + hw * mid * c["out_ch"]
    return total, (f"depthwise out_h*out_w*in_ch*m*kH*kW = {hw * mid * kh * kw} + pointwise "
                   f"out_h*out_w*in_ch*m*out_ch = {hw * mid * c['out_ch']}")


def cost_ratio_expected(c):
    # Spatial size cancels; any output size gives the same ratio.
    standard = _macs(_conv(c["in_ch"], c["out_ch"], c["kernel_size"], 1, False), c["in_ch"], c["kernel_size"], 5, 5)
    separable = _macs(_separable(c["in_ch"], c["out_ch"], c["kernel_size"], False), c["in_ch"], c["kernel_size"], 5, 5)
    kh, kw = pair(c["kernel_size"])
    return standard / separable, (f"standard MACs / separable MACs = 1 / (1/out_ch + 1/(kH*kW)) = "
                                  f"1 / (1/{c['out_ch']} + 1/{kh * kw})")


# -- cases ----------------------------------------------------------------------------------
def _kernel(gen):
    kh, kw = randint(gen, 1, 7), randint(gen, 1, 7)
    if kh == kw and randint(gen, 0, 1):
        return kh  # an int
    return choice(gen, [(kh, kw), [kh, kw]]) if kh != kw else (kh, kw)


def make_case(gen: torch.Generator, index: int) -> dict:
    groups = choice(gen, [1, 1, 2, 3, 4])
    in_ch, out_ch = groups * randint(gen, 1, 12), groups * randint(gen, 1, 12)
    if index == 1:  # one realistic layer size, every option at its default (so left out of the call)
        in_ch, out_ch, groups = choice(gen, [64, 128, 256]), choice(gen, [128, 256, 512]), 1
    if index == 2:  # always one grouped case
        groups, in_ch, out_ch = 2, 2 * randint(gen, 1, 6), 2 * randint(gen, 2, 6)
    kernel = _kernel(gen)
    if index == 0:
        kernel = (randint(gen, 1, 2), randint(gen, 3, 5))  # always one non-square kernel
    multiplier = choice(gen, [1, 1, 2, 3]) if index != 2 else randint(gen, 2, 3)
    if index == 1:
        multiplier = 1
    return {"in_ch": in_ch, "out_ch": out_ch, "kernel_size": kernel, "groups": groups,
            "bias": bool(randint(gen, 0, 1)) if index > 2 else index != 2,  # case 2: no bias
            "out_h": randint(gen, 1, 28), "out_w": randint(gen, 1, 28),
            "depth_multiplier": multiplier}


DEFAULTS = {"groups": 1, "bias": True, "depth_multiplier": 1}  # the stubs' signatures


def _describe(index: int, seed: int, c: dict, keys) -> str:
    parts = []
    for key in keys:
        value = c[key]
        if key == "kernel_size":
            value = f"{value!r}"
        parts.append(f"{key}={value}")
    return f"case {index} ({', '.join(parts)}, seed {seed})"


FUNCTIONS = {
    # entry: (positional keys, keyword keys, oracle)
    "conv_params": (("in_ch", "out_ch", "kernel_size"), ("groups", "bias"), conv_params_expected),
    "conv_macs": (("in_ch", "out_ch", "kernel_size", "out_h", "out_w"), ("groups",), conv_macs_expected),
    "separable_params": (("in_ch", "out_ch", "kernel_size"), ("bias", "depth_multiplier"), separable_params_expected),
    "separable_macs": (("in_ch", "out_ch", "kernel_size", "out_h", "out_w"), ("depth_multiplier",), separable_macs_expected),
    "cost_ratio": (("in_ch", "out_ch", "kernel_size"), (), cost_ratio_expected),
}


def call_batch(ctx, entry: str, cases: list[dict], describe):
    """The learner's values for every case, with an exception turned into a named error."""
    positional, keywords, _ = FUNCTIONS[entry]
    # options at their default are left out, so the learner's own defaults are exercised too
    calls = [([c[k] for k in positional], {k: c[k] for k in keywords if c[k] != DEFAULTS[k]}) for c in cases]
    records = ctx.call_many(entry, calls)
    for index, record in enumerate(records):
        if "raised" in record:
            raise LearnerRaised(str(record["raised"]), str(record.get("message", "")),
                                str(record.get("traceback", "")), f"{describe(index)}: {entry}()")
    return [record.get("value") for record in records]


def _check_value(entry, got, expected, why, where):
    if entry == "cost_ratio":
        if type(got) not in (float, int):
            raise Fail(f"{where}: cost_ratio() must return a Python float, got {shown_value(got)}")
        if not math.isclose(got, expected, rel_tol=RATIO_RTOL):
            inverted = " (that is the inverse: standard / separable, not separable / standard)" \
                if got and math.isclose(1 / got, expected, rel_tol=RATIO_RTOL) else ""
            raise Fail(f"{where}: cost_ratio() returned {got!r}, expected {expected:.6g} = {why}{inverted}")
        return
    if type(got) is not int:
        raise Fail(f"{where}: {entry}() must return an int, got {int_advice(got)}")
    if got != expected:
        raise Fail(f"{where}: {entry}() returned {got}, expected {expected} = {why}")


def random_cases_check(entry: str, count: int):
    positional, keywords, oracle = FUNCTIONS[entry]

    def run(ctx):
        seeds = [ctx.case_seed(i) for i in range(count)]
        cases = [make_case(torch.Generator().manual_seed(s), i) for i, s in enumerate(seeds)]
        describe = lambda i: _describe(i, seeds[i], cases[i], positional + keywords)  # noqa: E731
        values = call_batch(ctx, entry, cases, describe)
        for index, (case, got) in enumerate(zip(cases, values)):
            expected, why = oracle(case)
            _check_value(entry, got, expected, why, describe(index))
        source = {"cost_ratio": "the ratio of FlopCounterMode's FLOPs"}.get(
            entry, "FlopCounterMode / 2" if "macs" in entry else "nn.Conv2d modules")
        return passed(f"{count} random cases match {source}")

    return run


# The MobileNet argument in numbers: 128 -> 128 channels, 3x3, 56x56 output.
EXAMPLE = {"in_ch": 128, "out_ch": 128, "kernel_size": 3, "groups": 1, "bias": True,
           "out_h": 56, "out_w": 56, "depth_multiplier": 1}


def check_example(ctx):
    where = "the 128-channel 3x3 example (in_ch=128, out_ch=128, kernel_size=3, 56x56 output, bias)"
    for entry, (positional, keywords, oracle) in FUNCTIONS.items():
        got = call_batch(ctx, entry, [EXAMPLE], lambda i: where)[0]
        expected, why = oracle(EXAMPLE)
        _check_value(entry, got, expected, why, where)
    return passed("128 channels, 3x3: separable is 8.41x cheaper (1 / (1/128 + 1/9))")


SPEC = ProblemSpec(
    id="p04",
    name="separable_cost",
    title="Why depthwise-separable convolution is cheaper",
    question=4,
    question_text="Why is depthwise-separable convolution more efficient than standard convolution?",
    entry_points=tuple(FUNCTIONS),
    checks=(
        Check("128-channel 3x3 example", "correctness", 1, check_example),
        Check("conv_params", "correctness", 2, random_cases_check("conv_params", 10)),
        Check("conv_macs", "correctness", 2, random_cases_check("conv_macs", 10)),
        Check("separable_params", "correctness", 2, random_cases_check("separable_params", 10)),
        Check("separable_macs", "correctness", 2, random_cases_check("separable_macs", 10)),
        Check("cost_ratio", "correctness", 1, random_cases_check("cost_ratio", 8)),
    ),
    hints=(
        "Count what a layer stores: one kH x kW filter per (output channel, input channel it reads), "
        "plus one bias per output channel. Groups mean each output channel reads only in_ch/groups inputs.",
        "A depthwise-separable layer is two convs: a depthwise kH x kW conv with groups=in_ch "
        "(in_ch*m output channels, each with its own bias) and a 1x1 pointwise conv to out_ch. Count "
        "each with the standard formula and add.",
        "MACs = (output elements) x (MACs per output element) = out_h*out_w*out_ch * (in_ch/groups)*kH*kW; "
        "the bias is an add, not a multiply-add. Divide standard by separable and the spatial size and "
        "in_ch cancel, leaving 1 / (1/out_ch + 1/(kH*kW)).",
    ),
    time_limit_s=30.0,
)
