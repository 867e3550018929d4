"""p05: a depthwise-separable convolution layer, checked against its own weights and timed.

The learner's module is built in the worker; probes return plain data (its submodules'
settings, its state_dict, outputs, gradients). The reference is computed here, in the parent,
in float64 from that state_dict by composing two F.conv2d calls, so a layer is judged on what it
computes with the weights it has. The expected parameter count is the formula, written here
(not p04's learner code).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks.cases import choice, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.timing import SpeedCase, speed_verdict
from grader.checks.timing.measure import measure
from grader.checks.verdict import Fail, passed
from grader.probes import p05_depthwise_separable as probes
from grader.spec import Check, ProblemSpec

CLASS = probes.CLASS
# reference_forward stays here (the speed check's trusted baseline worker names it by this path)
# The constructor's defaults: options at their default are left out of the call, so the
# learner's own defaults are exercised (config 3 has every default).
DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "bias": True, "depth_multiplier": 1}


def _call_config(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in DEFAULTS or (v != DEFAULTS[k] and v != (DEFAULTS[k],) * 2)}


# -- the reference (parent, and the trusted baseline worker for timed calls) ------------------
def reference_forward(x: torch.Tensor, state: dict, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Depthwise conv (groups = in_channels) then a 1x1 conv, with the layer's own weights."""
    y = F.conv2d(x, state["depthwise.weight"], state.get("depthwise.bias"), stride, padding, dilation,
                 groups=x.shape[1])
    return F.conv2d(y, state["pointwise.weight"], state.get("pointwise.bias"))


def expected_shapes(config: dict) -> dict:
    c, o, m = config["in_channels"], config["out_channels"], config.get("depth_multiplier", 1)
    kh, kw = pair(config["kernel_size"])
    shapes = {"depthwise.weight": (c * m, 1, kh, kw), "pointwise.weight": (o, c * m, 1, 1)}
    if config.get("bias", True):
        shapes.update({"depthwise.bias": (c * m,), "pointwise.bias": (o,)})
    return shapes


def expected_parameters(config: dict) -> int:
    """in*m*kH*kW (+ in*m biases) for the depthwise conv, in*m*out (+ out biases) for the 1x1."""
    c, o, m = config["in_channels"], config["out_channels"], config.get("depth_multiplier", 1)
    kh, kw = pair(config["kernel_size"])
    bias = config.get("bias", True)
    return c * m * kh * kw + (c * m if bias else 0) + c * m * o + (o if bias else 0)


def _describe(config: dict) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return f"{CLASS}({text})"


def _check_state(state, config: dict) -> None:
    """Names and shapes of the learner's weights, before they are used for a reference."""
    want = expected_shapes(config)
    if type(state) is not dict:
        raise Fail(f"{_describe(config)}: the layer has no readable state_dict")
    got = {k: tuple(v.shape) for k, v in state.items() if type(v) is torch.Tensor}
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        hint = ""
        if not config.get("bias", True) and any(k.endswith(".bias") for k in extra):
            hint = " (bias=False means neither conv has a bias)"
        raise Fail(f"{_describe(config)}: state_dict keys {sorted(got)}, expected {sorted(want)}"
                   + (f"; missing {missing}" if missing else "") + (f"; unexpected {extra}" if extra else "")
                   + hint)
    for key, shape in want.items():
        if got[key] != shape:
            raise Fail(f"{_describe(config)}: {key} has shape {got[key]}, expected {shape}"
                       + (" (the depthwise conv needs groups=in_channels: one kH x kW filter per "
                          "input channel, depth_multiplier of them)" if key == "depthwise.weight" else ""))


# -- configs ----------------------------------------------------------------------------------
def _configs(gen: torch.Generator, count: int) -> list[dict]:
    """Random layer settings; the first few cover uneven pairs with a depth multiplier,
    bias=False, and every default, whatever the seed."""
    configs = []
    for i in range(count):
        c = randint(gen, 2, 5)
        config = {"in_channels": c, "out_channels": randint(gen, 1, 6),
                  "kernel_size": choice(gen, [3, 1, 5, (3, 2)]), "stride": choice(gen, [1, 2]),
                  "padding": randint(gen, 0, 2), "dilation": choice(gen, [1, 1, 2]),
                  "bias": bool(randint(gen, 0, 1)), "depth_multiplier": randint(gen, 1, 3)}
        if i == 0:  # non-square kernel, stride, padding and dilation pairs whose values differ
            config.update(kernel_size=(3, 2), bias=True, depth_multiplier=2, stride=(2, 1), padding=(1, 0),
                          dilation=(1, 2))
        elif i == 1:
            config.update(bias=False, depth_multiplier=1, kernel_size=3, dilation=2)
        elif i == 2:
            config.update(bias=True, depth_multiplier=3)
        elif i == 3:  # every option at its default, so left out of the call
            config.update(DEFAULTS)
        configs.append(config)
    return configs


def _input(gen: torch.Generator, config: dict, dtype=torch.float32) -> torch.Tensor:
    kh, kw = pair(config["kernel_size"])
    dh, dw = pair(config["dilation"])
    h, w = randint(gen, dh * (kh - 1) + 1, 10), randint(gen, dw * (kw - 1) + 1, 10)
    return random_tensor(gen, (randint(gen, 1, 2), config["in_channels"], h, w), dtype)


def _conv_args(config: dict) -> dict:
    return {k: config[k] for k in ("stride", "padding", "dilation")}


# -- checks -----------------------------------------------------------------------------------
def _expected_settings(config: dict) -> dict:
    c, o, m = config["in_channels"], config["out_channels"], config.get("depth_multiplier", 1)
    s, p, d = pair(config["stride"]), pair(config["padding"]), pair(config["dilation"])
    bias = config.get("bias", True)
    return {
        "depthwise": {"type": "Conv2d", "in_channels": c, "out_channels": c * m,
                      "kernel_size": pair(config["kernel_size"]), "stride": s, "padding": p,
                      "dilation": d, "groups": c, "bias": bias},
        "pointwise": {"type": "Conv2d", "in_channels": c * m, "out_channels": o, "kernel_size": (1, 1),
                      "stride": (1, 1), "padding": (0, 0), "dilation": (1, 1), "groups": 1, "bias": bias},
    }


WHY = {"groups": "the depthwise conv filters each input channel on its own: groups=in_channels",
       "out_channels": "depthwise gives in_channels*depth_multiplier channels, pointwise maps them to out_channels",
       "in_channels": "pointwise reads in_channels*depth_multiplier channels",
       "kernel_size": "the spatial kernel is the depthwise one; pointwise is 1x1",
       "bias": "bias=True gives both convs a bias, bias=False neither",
       "stride": "stride, padding and dilation belong to the depthwise conv; pointwise is a plain 1x1",
       "padding": "stride, padding and dilation belong to the depthwise conv; pointwise is a plain 1x1",
       "dilation": "stride, padding and dilation belong to the depthwise conv; pointwise is a plain 1x1"}


def check_structure(ctx):
    configs = _configs(ctx.generator(), 5)
    rows = ctx.probe(probes.structure, [_call_config(c) for c in configs], ctx.case_seed(1))
    for config, row in zip(configs, rows):
        if not row.get("is_module"):
            raise Fail(f"{_describe(config)} is not an nn.Module")
        for name, want in _expected_settings(config).items():
            got = row.get(name)
            if got is None:
                raise Fail(f"{_describe(config)} has no submodule `{name}` (an nn.Conv2d)")
            if got.get("type") != "Conv2d":
                raise Fail(f"{_describe(config)}: `{name}` is a {got.get('type')}, expected an nn.Conv2d")
            for key, value in want.items():
                if got.get(key) != value:
                    raise Fail(f"{_describe(config)}: {name}.{key} is {got.get(key)!r}, expected "
                               f"{value!r} ({WHY.get(key, '')})")
    return passed(f"{len(configs)} configurations have the expected depthwise and pointwise convs")


def check_parameter_count(ctx):
    configs = _configs(ctx.generator(), 5)
    rows = ctx.probe(probes.structure, [_call_config(c) for c in configs], ctx.case_seed(1))
    for config, row in zip(configs, rows):
        want, got = expected_parameters(config), row.get("parameters")
        if got != want:
            c, o, m = config["in_channels"], config["out_channels"], config["depth_multiplier"]
            kh, kw = pair(config["kernel_size"])
            formula = (f"{c}*{m}*{kh}*{kw} + {c}*{m}*{o}" + (f" + {c}*{m} + {o} biases" if config["bias"] else ""))
            raise Fail(f"{_describe(config)} has {got} parameters, expected {want} ({formula})")
    return passed(f"{len(configs)} configurations have in*m*kH*kW + in*m*out (+ biases) parameters")


def _forward_case(ctx, index: int, with_grads: bool):
    gen = ctx.generator(index)
    config = _configs(gen, index + 1)[index]
    dtype = torch.float64 if index % 2 else torch.float32
    x = _input(gen, config, dtype)
    ref_shape = reference_forward(x.double(), {k: torch.zeros(v, dtype=torch.float64) for k, v in
                                               expected_shapes(config).items()}, **_conv_args(config)).shape
    grad_out = random_tensor(gen, ref_shape, dtype) if with_grads else None
    reply = ctx.probe(probes.forward, _call_config(config), ctx.case_seed(100 + index), x, grad_out,
                      what=f"{CLASS}.forward()")
    if type(reply) is not dict:
        raise Fail(f"{CLASS}: the grader could not read the layer's output")
    _check_state(reply.get("state_dict"), config)
    state = {k: v.to(torch.float64).requires_grad_(True) for k, v in reply["state_dict"].items()}
    x64 = x.to(torch.float64)
    expected = reference_forward(x64, state, **_conv_args(config))
    case = f"case {index} ({_describe(config)}, input {tuple(x.shape)} {str(dtype)[6:]}, seed {ctx.case_seed(index)})"
    return config, case, reply, state, expected, grad_out, dtype


def check_forward(ctx):
    count = 4
    for index in range(count):
        config, case, reply, _, expected, _, dtype = _forward_case(ctx, index, with_grads=False)
        compare(reply.get("out"), expected.detach(), dtype=dtype, what=f"{CLASS}.forward()", case=case,
                shape_hint="depthwise conv (stride, padding, dilation) then a 1x1 conv to out_channels")
    return passed(f"{count} configurations match a depthwise F.conv2d then a 1x1 F.conv2d with the layer's weights")


def check_gradients(ctx):
    count = 3
    for index in range(count):
        config, case, reply, state, expected, grad_out, dtype = _forward_case(ctx, index, with_grads=True)
        compare(reply.get("out"), expected.detach(), dtype=dtype, what=f"{CLASS}.forward()", case=case)
        want = torch.autograd.grad((expected * grad_out.to(torch.float64)).sum(), list(state.values()))
        grads = reply.get("grads") if type(reply.get("grads")) is dict else {}
        for (name, _), g in zip(state.items(), want):
            got = grads.get(name)
            if got is None:
                raise Fail(f"{case}: parameter {name} got no gradient (is it used in forward, "
                           f"without .detach() or torch.no_grad()?)")
            compare(got, g, dtype=dtype, what=f"the gradient of {name}", case=case)
    return passed(f"{count} configurations: every parameter gets the right gradient")


# -- speed --------------------------------------------------------------------------------------
def _speed_case(label: str, n: int, c: int, o: int, hw: int, k: int) -> SpeedCase:
    init = {"in_channels": c, "out_channels": o, "kernel_size": k, "padding": k // 2}
    # The timed output is verified against the learner layer's own weights (its state_dict),
    # computed by the baseline worker (float64 on CUDA).
    return SpeedCase(
        label, {"x": (n, c, hw, hw)},
        learner={"kind": "module", "name": CLASS, "init": init},
        baseline={"kind": "torch_module", "name": "Conv2d", "init": init},
        reference={"kind": "builder", "name": "grader.probes.speed_targets:separable_reference",
                   "kwargs": {"padding": k // 2, "state_dict": "learner"}})


# 256 -> 256 channels, 3x3, 28x28 (a ResNet stage-3 layer): theory says 1/256 + 1/9 of the MACs
# (8.7x fewer). On one thread of the shared, loaded 2-core CPU the reference layer measured
# 0.23-0.34x nn.Conv2d in a quick probe (docs/benchmarks.md has the repeat figures; a
# 128-channel 56x56 layer sat at 0.35-0.50x under load, too near a useful threshold). A
# "separable" layer that folds both convs into one dense kernel runs at ~1x. 0.6 leaves margin
# both ways.
CPU_CASES = (_speed_case("3x3 256->256 28x28 batch 4", 4, 256, 256, 28, 3),)
CPU_THRESHOLD = 0.6
# GPU (uncalibrated: no GPU where this was written): cuDNN's depthwise kernels are memory-bound, so
# the gain is smaller than the MAC ratio; at batch 32 it is still well below a dense conv's time.
# Verified against float64 with the TF32 tolerance (a channels_last or einsum variant is correct).
GPU_CASES = (_speed_case("3x3 256->256 56x56 batch 32", 32, 256, 256, 56, 3),)
GPU_THRESHOLD = 0.7


def _speed(cases, threshold: float, device: str):
    def run(ctx):
        # The timed calls are verified against the layer's own weights: check their shapes first,
        # so a wrong structure fails here with a clear message instead of in the reference.
        init = cases[0].learner["init"]
        config = dict(init, stride=1, dilation=1, bias=True, depth_multiplier=1)
        row = ctx.probe(probes.structure, [config], 0)[0]
        try:
            _check_state(row.get("state_dict"), config)
        except Fail as failure:
            raise Fail(f"not timed, the layer's weights are wrong: {failure.message}") from None
        m = measure(ctx, cases, threshold=threshold, baseline_name="nn.Conv2d", device=device)
        return speed_verdict(m, threshold=threshold, baseline_name="nn.Conv2d")
    return run


SPEC = ProblemSpec(
    id="p05",
    name="depthwise_separable",
    title="A depthwise-separable layer",
    question=5,
    question_text="How do you implement a depthwise-separable convolution layer in PyTorch?",
    entry_points=(CLASS,),
    checks=(
        Check("structure", "correctness", 2, check_structure),
        Check("forward matches the two convs", "correctness", 2, check_forward),
        Check("parameter count", "correctness", 1, check_parameter_count),
        Check("gradients flow", "correctness", 1, check_gradients),
        Check("faster than nn.Conv2d on CPU", "speed", 2, _speed(CPU_CASES, CPU_THRESHOLD, "cpu")),
        Check("faster than nn.Conv2d on GPU", "speed", 1, _speed(GPU_CASES, GPU_THRESHOLD, "cuda"),
              needs_cuda=True),
    ),
    hints=(
        "Split a standard conv into two steps: one that filters space but never mixes channels, "
        "and one that mixes channels but never looks at neighbours.",
        "nn.Conv2d's `groups` argument does the first step: with groups=in_channels each input "
        "channel gets its own kH x kW filters (depth_multiplier of them, so out_channels = "
        "in_channels * depth_multiplier). Stride, padding and dilation belong there.",
        "The second step is a 1x1 nn.Conv2d from in_channels*depth_multiplier to out_channels. "
        "Pass `bias` to both; forward is just pointwise(depthwise(x)).",
    ),
    time_limit_s=90.0,
)
