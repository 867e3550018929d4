"""p03: the arithmetic of stride, padding and dilation, checked against real PyTorch ops.

Expected answers never come from a formula alone: output sizes are the shapes that F.conv2d and
F.conv_transpose2d produce (or the error they raise) on small tensors in the parent, and the
receptive field is measured by back-propagating from one output pixel through a stack of convs.
Many cases go to the worker in one round trip (``ctx.call_many``); each case's value or exception comes
back as data and the parent judges them one by one.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from grader.checks.cases import int_advice, randint, shown_value
from grader.checks.verdict import Fail, LearnerRaised, passed
from grader.probes.threads import one_thread
from grader.spec import Check, ProblemSpec

DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}


# -- parent side: oracles ---------------------------------------------------------------------
def torch_conv_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """The output length F.conv2d gives along one dimension, or None when PyTorch refuses."""
    x, w = torch.ones(1, 1, size, 1), torch.ones(1, 1, kernel_size, 1)
    try:
        with one_thread():
            return int(F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2])
    except RuntimeError:
        return None


def torch_transposed_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    x, w = torch.ones(1, 1, size, 1), torch.ones(1, 1, kernel_size, 1)
    try:
        with one_thread():
            return int(F.conv_transpose2d(x, w, stride=(stride, 1), padding=(padding, 0),
                                          output_padding=(output_padding, 0), dilation=(dilation, 1)).shape[2])
    except RuntimeError:
        return None


def measured_receptive_field(layers) -> int:
    """Input pixels between the first and last that one output pixel's gradient reaches.

    All-ones weights and input, so no gradient cancels and the span is exactly the field.
    """
    length = 1 + sum(l["kernel_size"] * l.get("dilation", 1) for l in layers) * _stride_product(layers)
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    with one_thread():
        for layer in layers:
            weight = torch.ones(1, 1, layer["kernel_size"], dtype=torch.float64)
            y = F.conv1d(y, weight, stride=layer.get("stride", 1), dilation=layer.get("dilation", 1))
        y[0, 0, 0].backward()
    reached = x.grad[0, 0].nonzero()
    return int(reached.max() - reached.min()) + 1


def _stride_product(layers) -> int:
    product = 1
    for layer in layers:
        product *= layer.get("stride", 1)
    return product


# -- parent side: cases -----------------------------------------------------------------------
def _args(kwargs: dict, positional: tuple[str, ...]) -> list:
    """[args, kwargs] for a call: required ones positional, options as keywords, and defaults
    sometimes left out so the learner's defaults are exercised too."""
    args = [kwargs[name] for name in positional]
    options = {k: v for k, v in kwargs.items() if k not in positional}
    return [args, options]


def _drop_defaults(gen, kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if not (DEFAULTS.get(k) == v and randint(gen, 0, 1))}


def _defaults_only(gen) -> dict:
    """A valid case of ``size`` and ``kernel_size`` alone, every option left to the learner's
    defaults (so a wrong default such as stride=2 or padding=-1 fails whatever the seed): the size
    is odd and larger than the kernel, so halving it or padding by -1 changes the answer."""
    kernel_size = randint(gen, 2, 5)  # > 1, so a wrong default dilation shows too
    return {"size": kernel_size + 2 * randint(gen, 1, 8) + 1, "kernel_size": kernel_size}


def _describe(index: int, seed: int | None, kwargs: dict) -> str:
    parts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in kwargs.items())
    return f"case {index} ({parts}" + (f", seed {seed})" if seed is not None else ")")


def conv_formula(size, kernel_size, stride=1, padding=0, dilation=1) -> str:
    top = size + 2 * padding - dilation * (kernel_size - 1) - 1
    return (f"floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1 = "
            f"floor({top} / {stride}) + 1 = {top // stride + 1}")


def transposed_formula(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> str:
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    return ("(size-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1 = "
            f"{(size - 1) * stride} - {2 * padding} + {dilation * (kernel_size - 1)} + {output_padding} + 1 = {out}")


def _conv_case(gen, valid: bool) -> dict:
    while True:
        kwargs = {"kernel_size": randint(gen, 1, 7), "stride": randint(gen, 1, 4),
                  "padding": randint(gen, 0, 3), "dilation": randint(gen, 1, 3)}
        effective = kwargs["dilation"] * (kwargs["kernel_size"] - 1) + 1
        low = max(1, effective - 2 * kwargs["padding"])
        kwargs["size"] = randint(gen, low, low + 30) if valid else randint(gen, 1, max(1, low - 1))
        if (torch_conv_size(**kwargs) is not None) == valid:
            return {"size": kwargs.pop("size"), **kwargs}


def _transposed_case(gen, valid: bool) -> dict:
    while True:
        stride, dilation = randint(gen, 1, 4), randint(gen, 1, 3)
        kwargs = {"size": randint(gen, 1, 12) if valid else randint(gen, 1, 2),
                  "kernel_size": randint(gen, 1, 5), "stride": stride,
                  "padding": randint(gen, 0, 3) if valid else randint(gen, 1, 4),
                  "output_padding": randint(gen, 0, max(stride, dilation) - 1), "dilation": dilation}
        if (torch_transposed_size(**kwargs) is not None) == valid:
            return kwargs


# -- parent side: judging ---------------------------------------------------------------------
def _run(ctx, entry: str, calls: list) -> list:
    return ctx.call_many(entry, calls)


def _value(record, entry: str, case: str, expected_text: str):
    """The learner's returned value; a non-ValueError exception becomes the check's error."""
    if type(record) is not dict:
        raise Fail(f"{case}: the grader could not read back the result of {entry}()")
    if "raised" in record:
        if record.get("value_error"):
            raise Fail(f"{case}: {entry}() raised ValueError ({record.get('message', '')}) "
                       f"but this case is valid: expected {expected_text}")
        raise LearnerRaised(str(record["raised"]), str(record.get("message", "")),
                            str(record.get("traceback", "")), f"{entry}() in {case}")
    return record.get("value")


def _int(value, entry: str, case: str, expected: int) -> int:
    if type(value) is not int:
        raise Fail(f"{case}: {entry}() returned {int_advice(value)}; expected the int {expected} "
                   "(ints in, ints out)")
    return value


def check_conv_output_size(ctx, count: int = 30):
    cases = []
    for index in range(count):
        gen = ctx.generator(index)
        # Case 0: 7 / 2 is not whole, so rounding up instead of down shows at once. Case 1: every
        # default. Case 2: an output of exactly 1 (the boundary of the ValueError test).
        kwargs = {"size": 8, "kernel_size": 3, "stride": 2, "padding": 1} if index == 0 else \
            _defaults_only(gen) if index == 1 else \
            {"size": 5, "kernel_size": 3, "stride": 2, "dilation": 2} if index == 2 else \
            _drop_defaults(gen, _conv_case(gen, valid=True))
        cases.append(kwargs)
    records = _run(ctx, "conv_output_size", [_args(k, ("size", "kernel_size")) for k in cases])
    for index, (kwargs, record) in enumerate(zip(cases, records)):
        expected = torch_conv_size(**kwargs)
        case = _describe(index, ctx.case_seed(index), kwargs)
        got = _int(_value(record, "conv_output_size", case, str(expected)), "conv_output_size", case, expected)
        if got != expected:
            raise Fail(f"{case}: conv_output_size() returned {got}, expected {expected} "
                       f"(the size F.conv2d produces: {conv_formula(**kwargs)})")
    return passed(f"{count} cases match the sizes F.conv2d produces")


def check_effective_kernel_size(ctx, count: int = 12):
    cases = [{"kernel_size": 3, "dilation": 2}] + [{"kernel_size": randint(g, 1, 7), "dilation": randint(g, 1, 4)}
                                                   for g in (ctx.generator(i) for i in range(1, count))]
    records = _run(ctx, "effective_kernel_size", [[[c["kernel_size"], c["dilation"]], {}] for c in cases])
    for index, (kwargs, record) in enumerate(zip(cases, records)):
        # The smallest input a dilated kernel fits in, as PyTorch sees it: on a long input with no
        # padding, F.conv2d's output is shorter than the input by (effective size - 1).
        expected = 40 - torch_conv_size(40, kwargs["kernel_size"], dilation=kwargs["dilation"]) + 1
        case = _describe(index, ctx.case_seed(index), kwargs)
        got = _int(_value(record, "effective_kernel_size", case, str(expected)), "effective_kernel_size",
                   case, expected)
        if got != expected:
            raise Fail(f"{case}: effective_kernel_size() returned {got}, expected {expected} "
                       f"(a dilated kernel spans dilation*(kernel_size-1) + 1 = "
                       f"{kwargs['dilation']}*{kwargs['kernel_size'] - 1} + 1 input pixels)")
    return passed(f"{count} cases match F.conv2d with dilation")


def _same_reference(kernel_size: int, dilation: int, gen) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(1, 1, 9, 1, generator=gen, dtype=torch.float64)
    w = torch.randn(1, 1, kernel_size, 1, generator=gen, dtype=torch.float64)
    return x, w


def check_same_padding(ctx, count: int = 10):
    cases = []
    for index in range(count):
        gen = ctx.generator(index)
        kwargs = {"kernel_size": 4, "dilation": 1} if index == 0 else \
            {"kernel_size": randint(gen, 1, 6), "dilation": randint(gen, 1, 3)}
        cases.append(kwargs)
    # dilation 1 is left out of the call (case 0 always has it), so a wrong default shows
    records = _run(ctx, "same_padding", [[[c["kernel_size"]], {"dilation": c["dilation"]} if c["dilation"] != 1
                                          else {}] for c in cases])
    for index, (kwargs, record) in enumerate(zip(cases, records)):
        total = kwargs["dilation"] * (kwargs["kernel_size"] - 1)
        expected = (total // 2, total - total // 2)
        case = _describe(index, ctx.case_seed(index), kwargs)
        got = _value(record, "same_padding", case, str(expected))
        if type(got) not in (tuple, list) or len(got) != 2 or any(type(v) is not int for v in got):
            bad = [v for v in got if type(v) is not int] if type(got) in (tuple, list) else []
            why = f"; {int_advice(bad[0])}" if bad and len(got) == 2 else ""
            raise Fail(f"{case}: same_padding() returned {shown_value(got)}, expected a tuple of two "
                       f"Python ints (before, after) = {expected}{why}")
        # PyTorch is the judge: padding by the learner's (before, after) and convolving 'valid'
        # must give exactly what F.conv2d(padding='same') gives on random values.
        x, w = _same_reference(kwargs["kernel_size"], kwargs["dilation"], ctx.generator(index))
        with warnings.catch_warnings(), one_thread():
            warnings.simplefilter("ignore", UserWarning)  # even kernels: "may create a padded copy"
            same = F.conv2d(x, w, padding="same", dilation=(kwargs["dilation"], 1))
        before, after = got
        ok = before >= 0 and after >= 0
        if ok:
            with one_thread():
                mine = F.conv2d(F.pad(x, (0, 0, before, after)), w, dilation=(kwargs["dilation"], 1))
            ok = mine.shape == same.shape and torch.allclose(mine, same, rtol=0, atol=1e-12)
        if not ok:
            raise Fail(f"{case}: same_padding() returned {tuple(got)}, expected {expected}: padding that "
                       f"way does not reproduce F.conv2d(padding='same'). The total is "
                       f"dilation*(kernel_size-1) = {total}; when it is odd PyTorch puts the extra "
                       "pixel after (bottom/right)")
    return passed(f"{count} cases reproduce F.conv2d(padding='same')")


def _layers_case(gen) -> list:
    layers = []
    for _ in range(randint(gen, 1, 4)):
        layer = {"kernel_size": randint(gen, 1, 5)}
        if randint(gen, 0, 2):
            layer["stride"] = randint(gen, 1, 3)
        if randint(gen, 0, 2) == 0:
            layer["dilation"] = randint(gen, 1, 3)
        layers.append(layer)
    return layers


def _describe_layers(layers) -> str:
    short = {"kernel_size": "k", "stride": "s", "dilation": "d"}
    return "[" + ", ".join("{" + " ".join(f"{short[k]}{v}" for k, v in l.items()) + "}" for l in layers) + "]"


def check_receptive_field(ctx, count: int = 15):
    cases = []
    for index in range(count):
        if index == 0:  # three 3x3 convs, the first two with stride 2: 1 + 2 + 4 + 8 = 15
            cases.append([{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "stride": 2}, {"kernel_size": 3}])
        else:
            cases.append(_layers_case(ctx.generator(index)))
    records = _run(ctx, "receptive_field", [[[layers], {}] for layers in cases])
    for index, (layers, record) in enumerate(zip(cases, records)):
        expected = measured_receptive_field(layers)
        case = f"case {index} (layers {_describe_layers(layers)}, seed {ctx.case_seed(index)})"
        got = _int(_value(record, "receptive_field", case, str(expected)), "receptive_field", case, expected)
        if got != expected:
            raise Fail(f"{case}: receptive_field() returned {got}, expected {expected} (measured: the "
                       f"gradient of one output pixel reaches {expected} input pixels from first to last; "
                       "each layer adds (kernel_size-1)*dilation times the product of the strides "
                       "of the layers before it)")
    return passed(f"{count} stacks match the receptive field measured by gradients")


def check_transposed_output_size(ctx, count: int = 25):
    cases = []
    for index in range(count):
        gen = ctx.generator(index)
        kwargs = {"size": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1} if index == 0 \
            else _defaults_only(gen) if index == 1 \
            else {"size": 1, "kernel_size": 1} if index == 2 \
            else _drop_defaults(gen, _transposed_case(gen, valid=True))
        cases.append(kwargs)
    records = _run(ctx, "transposed_output_size", [_args(k, ("size", "kernel_size")) for k in cases])
    for index, (kwargs, record) in enumerate(zip(cases, records)):
        expected = torch_transposed_size(**kwargs)
        case = _describe(index, ctx.case_seed(index), kwargs)
        got = _int(_value(record, "transposed_output_size", case, str(expected)), "transposed_output_size",
                   case, expected)
        if got != expected:
            raise Fail(f"{case}: transposed_output_size() returned {got}, expected {expected} "
                       f"(the size F.conv_transpose2d produces: {transposed_formula(**kwargs)})")
    return passed(f"{count} cases match the sizes F.conv_transpose2d produces")


def check_value_error(ctx):
    """Where PyTorch refuses (the output would be empty), the learner must raise ValueError."""
    conv = [(None, {"size": 2, "kernel_size": 3}),
            # floor(-1 / 2) + 1 = 0, but int(-1 / 2) + 1 = 1: truncating toward zero hides it
            (None, {"size": 4, "kernel_size": 5, "stride": 2}),
            (None, {"size": 3, "kernel_size": 2, "dilation": 3})]
    conv += [(ctx.case_seed(i), _conv_case(ctx.generator(i), valid=False)) for i in range(3, 8)]
    transposed = [(None, {"size": 1, "kernel_size": 1, "padding": 1}),
                  # an output of exactly 0: `out < 0` instead of `out < 1` returns it
                  (None, {"size": 1, "kernel_size": 1, "padding": 1, "output_padding": 1, "dilation": 2})]
    transposed += [(ctx.case_seed(i), _transposed_case(ctx.generator(i), valid=False)) for i in range(10, 13)]
    groups = (("conv_output_size", conv, torch_conv_size, conv_formula, 0),
              ("transposed_output_size", transposed, torch_transposed_size, transposed_formula, 8))
    for entry, cases, oracle, formula, first in groups:
        records = _run(ctx, entry, [_args(k, ("size", "kernel_size")) for _, k in cases])
        for offset, ((seed, kwargs), record) in enumerate(zip(cases, records)):
            assert oracle(**kwargs) is None, "grader bug: an invalid case that PyTorch accepts"
            case = _describe(first + offset, seed, kwargs)
            why = f"the output would be empty ({formula(**kwargs)}) and PyTorch refuses this case"
            if type(record) is dict and "raised" in record:
                if record.get("value_error"):
                    continue
                raise Fail(f"{case}: {entry}() raised {record['raised']} ({record.get('message', '')}), "
                           f"expected ValueError: {why}")
            got = record.get("value") if type(record) is dict else record
            raise Fail(f"{case}: {entry}() returned {shown_value(got)}, expected it to raise ValueError: {why}")
    return passed(f"ValueError in all {len(conv) + len(transposed)} cases where PyTorch refuses")


SPEC = ProblemSpec(
    id="p03",
    name="conv_arithmetic",
    title="Stride, padding and dilation",
    question=3,
    question_text="Explain the effects of stride, padding and dilation on convolution.",
    entry_points=("conv_output_size", "effective_kernel_size", "same_padding", "receptive_field",
                  "transposed_output_size"),
    checks=(
        Check("conv_output_size", "correctness", 2, check_conv_output_size),
        Check("effective_kernel_size", "correctness", 1, check_effective_kernel_size),
        Check("same_padding", "correctness", 1, check_same_padding),
        Check("receptive_field", "correctness", 2, check_receptive_field),
        Check("transposed_output_size", "correctness", 2, check_transposed_output_size),
        Check("ValueError for an empty output", "correctness", 1, check_value_error),
    ),
    hints=(
        "Draw one dimension as a row of pixels. Dilation spreads the kernel taps apart, padding "
        "adds pixels at both ends, stride skips window positions. Count how many window positions fit.",
        "A dilated kernel covers d*(k-1)+1 pixels. The padded input has size + 2p pixels; the window "
        "fits at positions 0, s, 2s, ... as long as it does not run off the end: use floor division. "
        "Going back through a layer, each step of the output is `stride` steps of the input.",
        "Receptive field: walk the layers from the input keeping two numbers, the field so far and "
        "the jump (input pixels between neighbouring outputs). Each layer widens the field by (k-1)*d "
        "jumps, then multiplies the jump by its stride. For ValueError, compute the size and check "
        "it: Python's // floors negative numbers, int(a / b) truncates them toward zero.",
    ),
    time_limit_s=30.0,
)
