"""p10: bias and activation. A fused conv+bias+ReLU autograd Function with a hand-written
backward, BatchNorm folding, and two linear convs composed into one.

The probes (grader/probes/p10_bias_activation.py) run in the learner's worker and only gather
tensors; every verdict is computed here in the parent against float64 references (autograd of F.conv2d + bias + ReLU, the
eval-mode BatchNorm formula, the composed kernel).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import CONV_ATEN, RELU_GRAPH_OPS, autograd_family, forbid
from grader.checks.cases import choice, describe_conv, randint, random_tensor, shown_value
from grader.checks.compare import compare
from grader.checks.verdict import Fail, passed
from grader.probes import p10_bias_activation as probes
from grader.spec import Check, ProblemSpec

_BY_HAND = "p10 asks for a hand-written backward; autograd may not compute it for you"
# Autograd whole, but torch.nn.grad (conv's backward kernels) stays allowed: the engine's entry
# points, every other *_backward kernel (threshold_backward is ReLU's node), and no autograd graph
# through a convolution or a ReLU, so their grad_fn nodes cannot be built and called by hand.
BANNED = forbid(autograd_family(_BY_HAND, allow_conv_backward=True,
                                graph_ops=[name for name in CONV_ATEN if "backward" not in name]
                                + list(RELU_GRAPH_OPS)))
_CONV_ATTRIBUTES = probes.CONV_ATTRIBUTES


# --- parent side: cases, references, checks ---------------------------------------------------

def _conv_case(gen: torch.Generator, index: int, dtype=torch.float64) -> dict:
    """Case 0: uneven stride and padding pairs; case 1: stride 1 and padding 0, left out of the
    call so that the learner's defaults are exercised; later cases random."""
    stride = {0: (1, 2), 1: 1}.get(index) or choice(gen, [1, 2, (2, 1)])
    padding = {0: (1, 0), 1: 0}.get(index)
    padding = choice(gen, [0, 1, 2, (0, 1)]) if padding is None else padding
    n, c_in, c_out = randint(gen, 1, 2), randint(gen, 1, 3), randint(gen, 2, 3)
    kh, kw = (2, 3) if index == 0 else (randint(gen, 1, 3), randint(gen, 1, 3))
    h, w = randint(gen, kh + 2, 7), randint(gen, kw + 2, 8)  # >= 2x2 outputs: a mask can vary
    x = random_tensor(gen, (n, c_in, h, w), dtype)
    weight = random_tensor(gen, (c_out, c_in, kh, kw), dtype)
    # Centre each channel's pre-activation near 0 (plus a random shift), so that the ReLU is on
    # for some outputs and off for others in every channel: a mask that matters in every case.
    pre = F.conv2d(x.to(torch.float64), weight.to(torch.float64), None, stride, padding)
    per_channel = pre.transpose(0, 1).reshape(c_out, -1)
    shift = torch.randn(c_out, generator=gen, dtype=torch.float64) * 0.3 * per_channel.std(dim=1)
    bias = (shift - per_channel.median(dim=1).values).to(dtype)
    case = {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding}
    _, out = _reference_forward(case)
    case["grad_out"] = random_tensor(gen, tuple(out.shape), dtype)
    return case


def _reference_forward(case, requires_grad=False):
    x, w, b = (case[k].to(torch.float64).requires_grad_(requires_grad) for k in ("x", "weight", "bias"))
    return (x, w, b), F.relu(F.conv2d(x, w, b, case["stride"], case["padding"]))


def _reference_grads(case):
    inputs, out = _reference_forward(case, requires_grad=True)
    return torch.autograd.grad(out, inputs, case["grad_out"].to(torch.float64))


def _describe(index, seed, case):
    return describe_conv(index, seed, tuple(case["x"].shape), tuple(case["weight"].shape),
                         case["x"].dtype, stride=case["stride"], padding=case["padding"])


# Every proper non-empty subset of (x, weight, bias) requiring gradients, on case 0: a backward
# that crashes, or computes garbage, when ctx.needs_input_grad has a False fails.
SUBSETS = ((True, False, False), (False, True, False), (False, False, True),
           (True, True, False), (True, False, True), (False, True, True))
INPUTS = ("x", "weight", "bias")


def _backward(ctx, index, requires=(True, True, True)):
    seed = ctx.case_seed(index)
    case = _conv_case(torch.Generator().manual_seed(seed), index)
    got = ctx.probe(probes.backward, case["x"], case["weight"], case["bias"], case["stride"],
                    case["padding"], case["grad_out"], list(requires), arg_names=("x", "weight", "bias"),
                    what="Conv2dBiasReLU")
    label = _describe(index, seed, case)
    if not all(requires):
        label = label[:-1] + f", only {' and '.join(n for n, r in zip(INPUTS, requires) if r)} requiring grad)"
    if "problem" in got:
        raise Fail(f"{label}: {got['problem']}")
    _, expected_out = _reference_forward(case)
    compare(got["out"], expected_out, dtype=torch.float64, what="Conv2dBiasReLU.forward", case=label)
    grads, args = got["grads"], got["args"]
    called = "(x, weight, bias, stride, padding)" if args == 5 else "(x, weight, bias) (stride and padding defaulted)"
    if len(grads) < args or any(g is not None for g in grads[3:]):
        raise Fail(f"{label}: Conv2dBiasReLU.backward returned {len(grads)} values for apply{called}; it "
                   f"must return one per forward input, None for stride and padding")
    return case, label, grads[:3], _reference_grads(case)


def check_backward_subsets(ctx):
    """Only some of x, weight, bias require gradients: the grads asked for must still be right."""
    for requires in SUBSETS:
        case, label, grads, expected = _backward(ctx, 0, requires)
        for name, value, ref, wanted in zip(INPUTS, grads, expected, requires):
            if not wanted:
                continue  # autograd drops it; None (or skipping the work) is the point
            if value is None:
                raise Fail(f"{label}: Conv2dBiasReLU.backward returned None as the grad of {name}, which "
                           "requires grad")
            compare(value, ref, dtype=torch.float64, what=f"Conv2dBiasReLU.backward's grad of {name}",
                    case=label, shape_hint=f"{name} is {tuple(case[name].shape)}")
    return passed(f"the backward gives the right grads when only some inputs require grad "
                  f"({len(SUBSETS)} subsets, ctx.needs_input_grad)")


def check_backward_x_weight(ctx, count=4):
    for index in range(count):
        case, label, grads, expected = _backward(ctx, index)
        for name, value, ref, shape in (("grad of x", grads[0], expected[0], "x"),
                                        ("grad of weight", grads[1], expected[1], "weight")):
            if value is None:
                raise Fail(f"{label}: Conv2dBiasReLU.backward returned None as the {name}")
            compare(value, ref, dtype=torch.float64, what=f"Conv2dBiasReLU.backward's {name}", case=label,
                    shape_hint=f"the {name} has {shape}'s shape {tuple(case[shape].shape)}")
    return passed(f"{count} float64 cases match autograd of relu(conv2d(x, w) + b) (stride, padding)")


def check_backward_bias(ctx, count=3):
    for index in range(count):
        case, label, grads, expected = _backward(ctx, index)
        if grads[2] is None:
            raise Fail(f"{label}: Conv2dBiasReLU.backward returned None as the grad of bias")
        compare(grads[2], expected[2], dtype=torch.float64, what="Conv2dBiasReLU.backward's grad of bias",
                case=label, shape_hint=f"bias is ({case['bias'].numel()},)")
    return passed(f"{count} cases: grad of bias is grad_out summed where the ReLU let it through")


def check_forward(ctx, count=3):
    for index in range(count):
        seed = ctx.case_seed(index)
        dtype = torch.float32 if index % 2 else torch.float64
        case = _conv_case(torch.Generator().manual_seed(seed), index, dtype)
        got = ctx.probe(probes.forward, case["x"], case["weight"], case["bias"], case["stride"],
                        case["padding"], arg_names=("x", "weight", "bias"), what="conv_bias_relu()")
        label = _describe(index, seed, case)
        compare(got["out"], _reference_forward(case)[1], dtype=dtype, what="conv_bias_relu()", case=label)
        if not got["ours"]:
            raise Fail(f"{label}: conv_bias_relu() must go through Conv2dBiasReLU.apply(...) so that "
                       f"your backward is used; its output's grad_fn is {got['node']}")
    return passed(f"{count} cases match relu(conv2d(x, w, b)) and use Conv2dBiasReLU")


# --- BatchNorm folding ------------------------------------------------------------------------

def _fold_case(gen: torch.Generator, index: int) -> dict:
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    groups = 2 if index == 2 else 1
    c_in, c_out = groups * randint(gen, 1, 2), groups * randint(gen, 1, 3)
    k = (randint(gen, 1, 3), randint(gen, 1, 3))
    has_bias = index % 2 == 1  # with and without a conv bias, alternately
    conv_kwargs = {"in_channels": c_in, "out_channels": c_out, "kernel_size": k, "groups": groups,
                   "stride": choice(gen, [1, 2]), "padding": choice(gen, [0, 1]),
                   "dilation": choice(gen, [1, 1, 2]), "bias": has_bias, "dtype": dtype}
    conv_state = {"weight": random_tensor(gen, (c_out, c_in // groups, *k), dtype)}
    if has_bias:
        conv_state["bias"] = random_tensor(gen, (c_out,), dtype)
    # Non-trivial statistics and an eps large enough that forgetting it shows in float32.
    eps = choice(gen, [1e-3, 1e-2, 0.1, 0.5])
    running_var = (torch.rand(c_out, generator=gen, dtype=torch.float64) * 2 + 0.01).to(dtype)
    bn_kwargs = {"num_features": c_out, "eps": eps, "dtype": dtype}
    bn_state = {"weight": random_tensor(gen, (c_out,), dtype), "bias": random_tensor(gen, (c_out,), dtype),
                "running_mean": random_tensor(gen, (c_out,), dtype), "running_var": running_var,
                "num_batches_tracked": torch.tensor(100)}
    return {"conv_kwargs": conv_kwargs, "conv_state": conv_state, "bn_kwargs": bn_kwargs, "bn_state": bn_state}


def _fold_reference(case):
    """Eval-mode BN after the conv: y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta."""
    as64 = {k: v.to(torch.float64) for k, v in case["bn_state"].items() if v.is_floating_point()}
    scale = as64["weight"] / torch.sqrt(as64["running_var"] + case["bn_kwargs"]["eps"])
    weight = case["conv_state"]["weight"].to(torch.float64) * scale.view(-1, 1, 1, 1)
    conv_bias = case["conv_state"].get("bias")
    conv_bias = torch.zeros_like(scale) if conv_bias is None else conv_bias.to(torch.float64)
    return weight, (conv_bias - as64["running_mean"]) * scale + as64["bias"]


def _pairify(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def check_fold(ctx, count=4):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = _fold_case(torch.Generator().manual_seed(seed), index)
        kw = case["conv_kwargs"]
        label = (f"case {index} (Conv2d({kw['in_channels']}, {kw['out_channels']}, {kw['kernel_size']}, "
                 f"stride {kw['stride']}, padding {kw['padding']}, dilation {kw['dilation']}, groups "
                 f"{kw['groups']}, {'with' if kw['bias'] else 'without'} bias), BatchNorm2d eps "
                 f"{case['bn_kwargs']['eps']:g}, {str(kw['dtype']).replace('torch.', '')}, seed {seed})")
        got = ctx.probe(probes.fold, kw, case["conv_state"], case["bn_kwargs"], case["bn_state"],
                        what="fold_batchnorm()")
        for name, before_state, key in (("conv", case["conv_state"], "conv_after"),
                                        ("bn", case["bn_state"], "bn_after")):
            after = got[key]
            if type(after) is not dict or set(after) != set(before_state) or any(
                    type(after[k]) is not torch.Tensor or not torch.equal(after[k], before_state[k]) for k in after):
                raise Fail(f"{label}: fold_batchnorm() changed `{name}` in place; leave the model as it "
                           f"was and return a new nn.Conv2d (copy.deepcopy helps)")
        if "weight" not in got:
            raise Fail(f"{label}: fold_batchnorm() must return a torch.nn.Conv2d, got {got['type']}")
        if got["bias"] is None:
            raise Fail(f"{label}: the folded conv has no bias; folding BatchNorm always creates one "
                       f"(beta - gamma * mean / sqrt(var + eps) when the conv had none)")
        attributes = got["attributes"]
        for name in _CONV_ATTRIBUTES:
            want = kw.get(name, "zeros" if name == "padding_mode" else 1)
            want, have = (want, attributes[name]) if name in ("groups", "padding_mode") else \
                (_pairify(want), _pairify(attributes[name]))
            if want != have:
                raise Fail(f"{label}: the folded conv must keep the conv's {name} {want}, got {have}")
        weight, bias = _fold_reference(case)
        dtype = kw["dtype"]
        compare(got["weight"], weight, dtype=dtype, what="the folded conv's weight", case=label,
                shape_hint="the folded weight has the conv weight's shape")
        compare(got["bias"], bias, dtype=dtype, what="the folded conv's bias", case=label,
                shape_hint="one bias per output channel")
    return passed(f"{count} conv+BN pairs (with and without conv bias, eps up to 0.5) fold exactly")


# --- composing two linear convs ---------------------------------------------------------------

def _compose_reference(w1, b1, w2, b2):
    """W[o, c] = sum_m w2[o, m] (full convolution) w1[m, c]; b = b2 + sum w2 * b1."""
    w1, w2 = w1.to(torch.float64), w2.to(torch.float64)
    k2h, k2w = w2.shape[-2:]
    # conv2d with a flipped w2 and full padding is a true convolution of the two kernels.
    weight = F.conv2d(w1.transpose(0, 1), w2.flip(-1, -2), padding=(k2h - 1, k2w - 1)).transpose(0, 1)
    bias = torch.zeros(w2.shape[0], dtype=torch.float64) if b2 is None else b2.to(torch.float64)
    if b1 is not None:
        bias = bias + (w2.sum(dim=(2, 3)) @ b1.to(torch.float64))
    return weight, bias


def check_compose(ctx, count=4):
    for index in range(count):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        dtype = torch.float64 if index % 2 else torch.float32
        # case 0: every channel count and kernel size differs from every other, so no two
        # dimensions swapped (channels with kernel sizes, rows with columns) agree by chance
        c0, c1, c2 = (2, 3, 4) if index == 0 else (randint(gen, 1, 3), randint(gen, 1, 3), randint(gen, 1, 3))
        k1 = (5, 6) if index == 0 else (randint(gen, 1, 3), randint(gen, 1, 3))
        k2 = (7, 8) if index == 0 else (randint(gen, 1, 3), randint(gen, 1, 3))
        w1, w2 = random_tensor(gen, (c1, c0, *k1), dtype), random_tensor(gen, (c2, c1, *k2), dtype)
        b1 = None if index == 3 else random_tensor(gen, (c1,), dtype)
        b2 = None if index == 2 else random_tensor(gen, (c2,), dtype)
        label = (f"case {index} (w1 {tuple(w1.shape)}, b1 {'None' if b1 is None else tuple(b1.shape)}, "
                 f"w2 {tuple(w2.shape)}, b2 {'None' if b2 is None else tuple(b2.shape)}, "
                 f"{str(dtype).replace('torch.', '')}, seed {seed})")
        got = ctx.call("compose_linear_convs", w1, b1, w2, b2, arg_names=("w1", "b1", "w2", "b2"))
        if type(got) not in (tuple, list) or len(got) != 2:
            what = f"{len(got)} values" if type(got) in (tuple, list) else shown_value(got)
            raise Fail(f"{label}: compose_linear_convs() must return (w, b), got {what}")
        weight, bias = _compose_reference(w1, b1, w2, b2)
        compare(got[0], weight, dtype=dtype, what="the composed kernel w", case=label,
                shape_hint=f"(C2, C0, k1h + k2h - 1, k1w + k2w - 1) = {tuple(weight.shape)}")
        compare(got[1], bias, dtype=dtype, what="the composed bias b", case=label, shape_hint=f"(C2,) = ({c2},)")
    return passed(f"{count} pairs of convs compose into one (kernel and bias exact)")


SPEC = ProblemSpec(
    id="p10",
    name="bias_activation",
    title="Bias and activation",
    question=10,
    question_text="Explain the role of the bias term and the activation function in convolution.",
    entry_points=("Conv2dBiasReLU", "conv_bias_relu", "fold_batchnorm", "compose_linear_convs"),
    checks=(
        Check("conv_bias_relu forward", "correctness", 1, check_forward),
        Check("backward: grads of x and weight", "correctness", 2, check_backward_x_weight),
        Check("backward: bias grad through the ReLU mask", "correctness", 1, check_backward_bias),
        Check("backward: some inputs without grad", "correctness", 1, check_backward_subsets),
        Check("fold_batchnorm", "correctness", 2, check_fold),
        Check("compose_linear_convs", "correctness", 2, check_compose),
    ),
    hints=(
        "In the backward, the ReLU comes first: the gradient that reaches the conv is grad_out "
        "where the output was positive and 0 elsewhere. Everything after that is the backward of "
        "a plain conv plus a bias.",
        "With g = grad_out * (out > 0): the bias gradient sums g over N, H and W; the input "
        "gradient is a transposed convolution of g with the weight; the weight gradient "
        "correlates the input with g. torch.nn.grad has helpers for the last two. For BN folding, "
        "write eval-mode BN as a per-channel scale and shift and push both into the conv.",
        "BN folding: scale = gamma / sqrt(running_var + eps); W' = W * scale (per output "
        "channel); b' = (b - running_mean) * scale + beta, with b = 0 when the conv had no bias. "
        "Composing convs: y2 = w2 * (w1 * x + b1) + b2, so the kernel is w2 convolved (fully, "
        "flipped) with w1 over the channel in between, and b1 passes through w2's sum.",
    ),
    time_limit_s=60.0,
    banned=BANNED,
)
