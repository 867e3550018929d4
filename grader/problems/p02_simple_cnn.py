"""p02: a simple CNN, built exactly as specified.

The parent makes the weights (seeded) and computes every expected value with a float64
functional forward pass of its own; the worker (grader/probes/p02_simple_cnn.py) only builds the learner's
model, loads those weights into it by parameter name, runs it and hands back plain tensors. Even the training check
is judged in the parent: the worker returns the trained weights and the parent measures the loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from grader.checks.cases import randint, random_tensor
from grader.checks.compare import compare
from grader.checks.verdict import Fail, passed
from grader.probes.threads import one_thread
from grader.probes import p02_simple_cnn as probes
from grader.spec import Check, ProblemSpec

FIT_STEPS, FIT_LR, FIT_BATCH, FIT_SIZE = 30, 3e-3, 8, 12
FIT_RATIO = 0.5  # the loss after training must be at most half the loss before


def param_shapes(in_channels: int, num_classes: int) -> dict[str, tuple[int, ...]]:
    """The specification, as parameter name -> shape."""
    return {"conv1.weight": (16, in_channels, 3, 3), "conv1.bias": (16,),
            "conv2.weight": (32, 16, 3, 3), "conv2.bias": (32,),
            "fc.weight": (num_classes, 512), "fc.bias": (num_classes,)}


# -- parent side ------------------------------------------------------------------------------
def reference_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """The specification as a float64 functional forward pass."""
    with one_thread():
        return _reference_forward(state, x)


def _reference_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    s = {name: value.to(torch.float64) for name, value in state.items()}
    h = F.max_pool2d(F.relu(F.conv2d(x.to(torch.float64), s["conv1.weight"], s["conv1.bias"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, s["conv2.weight"], s["conv2.bias"], padding=1)), 2)
    h = F.adaptive_avg_pool2d(h, 4).flatten(1)  # (N, 32*4*4) in channel-major order
    return F.linear(h, s["fc.weight"], s["fc.bias"])


def random_state(gen: torch.Generator, in_channels: int, num_classes: int) -> dict:
    """Weights like PyTorch's default init (uniform in +-1/sqrt(fan_in)), biases given an offset
    so that a model that drops a bias, or adds it in the wrong place, shows."""
    state = {}
    for name, shape in param_shapes(in_channels, num_classes).items():
        fan_in = math.prod(param_shapes(in_channels, num_classes)[name.replace("bias", "weight")][1:])
        bound = 1 / math.sqrt(fan_in)
        value = torch.empty(shape, dtype=torch.float64).uniform_(-bound, bound, generator=gen)
        if name.endswith("bias"):
            value += float(torch.empty(()).uniform_(-0.2, 0.2, generator=gen))
        state[name] = value.to(torch.float32)
    return state


def _fmt(shapes: dict) -> str:
    return ", ".join(f"{n} {tuple(s)}" for n, s in shapes.items())


def _config_text(in_channels, num_classes) -> str:
    if in_channels is None:
        return "SimpleCNN() (defaults: in_channels=1, num_classes=10)"
    return f"SimpleCNN(in_channels={in_channels}, num_classes={num_classes})"


def check_parameters(ctx):
    gen = ctx.generator(0)
    configs = [(None, None), (3, 5), (randint(gen, 1, 4), randint(gen, 2, 12))]
    for in_channels, num_classes in configs:
        expected = param_shapes(in_channels or 1, num_classes or 10)
        got = ctx.probe(probes.params, in_channels, num_classes, what="SimpleCNN")
        config = _config_text(in_channels, num_classes)
        if type(got) is dict and "not_module" in got:
            raise Fail(f"{config} is a {got['not_module']}, not a torch.nn.Module")
        rows = got.get("params") if type(got) is dict else None
        if type(rows) is not list:
            raise Fail(f"{config}: the grader could not read the model's parameters")
        names = {row[0]: tuple(row[1]) for row in rows}
        groups = {}
        for name, _, group in rows:
            groups.setdefault(group, name)
        problems = [f"{n} is missing" for n in expected if n not in names]
        problems += [f"{n} has shape {names[n]}, expected {s}" for n, s in expected.items()
                     if n in names and names[n] != s]
        named = {group for name, _, group in rows if name in expected}
        extra = [name for group, name in groups.items() if group not in named]
        problems += [f"{n} {names[n]} is not in the specification" for n in extra]
        if problems:
            raise Fail(f"{config}: {'; '.join(problems)}. Expected exactly: {_fmt(expected)}; "
                       f"got: {_fmt({n: names[n] for n in groups.values()}) or 'no parameters'}")
    return passed("parameter names and shapes match for 3 configurations")


def _forward_cases(ctx):
    """(in_channels, num_classes, x shape): MNIST-like, odd non-square, the smallest, random."""
    yield 1, 10, (2, 1, 28, 28)
    yield 3, 5, (2, 3, 7, 9)
    yield 2, 3, (1, 2, 4, 4)
    yield 1, 2, (3, 1, 5, 13)
    for index in range(4, 6):
        gen = ctx.generator(index)
        yield randint(gen, 1, 4), randint(gen, 2, 12), (randint(gen, 1, 3), 0, randint(gen, 4, 21),
                                                        randint(gen, 4, 21))


def _loaded(reply, case: str, key: str):
    """The probe's ``key`` value; a model the grader could not load its weights into fails here."""
    if type(reply) is dict and "load_error" in reply:
        raise Fail(f"{case}: the grader cannot load its weights into your model: {reply['load_error']} "
                   "(see 'parameter names and shapes')")
    if type(reply) is not dict or key not in reply:
        raise Fail(f"{case}: the grader could not read back the model's results")
    return reply[key]


def check_forward(ctx):
    count = 0
    for index, (in_channels, num_classes, shape) in enumerate(_forward_cases(ctx)):
        seed = ctx.case_seed(index)
        gen = torch.Generator().manual_seed(seed)
        shape = (shape[0], in_channels, *shape[2:])
        state = random_state(gen, in_channels, num_classes)
        x = random_tensor(gen, shape, torch.float32)
        got = ctx.probe(probes.forward, in_channels, num_classes, state, x,
                        arg_names=("in_channels", "num_classes", "state dict", "x"), what="SimpleCNN.forward")
        case = (f"case {index} ({_config_text(in_channels, num_classes)}, input x of shape {tuple(shape)}, "
                f"seed {seed})")
        got = _loaded(got, case, "out")
        h, w = shape[2] // 2 // 2, shape[3] // 2 // 2
        compare(got, reference_forward(state, x), dtype=torch.float32, what="SimpleCNN.forward", case=case,
                shape_hint=f"expected (N, num_classes): after the two 2x2 max-pools the map is {h}x{w}, "
                           "AdaptiveAvgPool2d(4) makes it 32x4x4, flatten gives 512 features per sample")
        count += 1
    return passed(f"outputs match the float64 reference in {count} cases (odd, non-square, 4x4 inputs)")


def check_fit(ctx):
    seed = ctx.case_seed(0)
    gen = torch.Generator().manual_seed(seed)
    in_channels, num_classes = randint(gen, 1, 3), randint(gen, 3, 10)
    state = random_state(gen, in_channels, num_classes)
    x = random_tensor(gen, (FIT_BATCH, in_channels, FIT_SIZE, FIT_SIZE), torch.float32)
    y = torch.randint(0, num_classes, (FIT_BATCH,), generator=gen)
    case = (f"{_config_text(in_channels, num_classes)}, a fixed batch of {FIT_BATCH} inputs "
            f"{FIT_SIZE}x{FIT_SIZE}, {FIT_STEPS} Adam steps at lr {FIT_LR}, seed {seed}")
    got = ctx.probe(probes.fit, in_channels, num_classes, state, x, y, FIT_STEPS, FIT_LR,
                    arg_names=("in_channels", "num_classes", "state dict", "x", "y"), what="training SimpleCNN")
    _loaded(got, case, "grads")
    grads = got.get("grads") if type(got) is dict else None
    trained = got.get("trained") if type(got) is dict else None
    if type(grads) is not dict or type(trained) is not dict:
        raise Fail(f"{case}: the grader could not read back the training results")
    missing = [n for n in state if grads.get(n) is None]
    if missing:
        raise Fail(f"{case}: no gradient reached {', '.join(missing)} after loss.backward() "
                   "(a .detach(), torch.no_grad(), .data or requires_grad=False cuts it off)")
    dead = [n for n in state if type(grads[n]) is not float or not math.isfinite(grads[n]) or grads[n] == 0.0]
    if dead:
        raise Fail(f"{case}: the gradient of {', '.join(dead)} is zero or not finite "
                   f"({', '.join(f'{n}: {grads[n]}' for n in dead)})")
    for name, value in state.items():
        weights = trained.get(name)
        if type(weights) is not torch.Tensor or weights.shape != value.shape or not torch.isfinite(weights).all():
            raise Fail(f"{case}: after training, {name} is not a finite tensor of shape {tuple(value.shape)}")
    # Judged here: the loss of the reference forward pass with the learner's trained weights.
    before = F.cross_entropy(reference_forward(state, x), y).item()
    after = F.cross_entropy(reference_forward(trained, x), y).item()
    figures = dict(measured=round(after / before, 4), threshold=FIT_RATIO, unit="loss after / before")
    if not after <= FIT_RATIO * before:
        raise Fail(f"{case}: the loss went from {before:.4g} to {after:.4g} (ratio {after / before:.3g}, "
                   f"needs <= {FIT_RATIO}). The grader measures it with the specified forward pass on "
                   "your trained weights; if 'forward matches the reference' fails, fix that first", **figures)
    return passed(f"loss {before:.3g} -> {after:.3g} in {FIT_STEPS} steps; gradients reach all 6 parameters",
                  **figures)


SPEC = ProblemSpec(
    id="p02",
    name="simple_cnn",
    title="A simple CNN",
    question=2,
    question_text="How do you implement a simple CNN in PyTorch?",
    entry_points=("SimpleCNN",),
    checks=(
        Check("parameter names and shapes", "correctness", 2, check_parameters),
        Check("forward matches the reference", "correctness", 3, check_forward),
        Check("fits a small batch", "training", 2, check_fit),
    ),
    hints=(
        "Subclass nn.Module: create the layers that have weights in __init__ (conv1, conv2, fc), "
        "and wire conv -> ReLU -> pool twice in forward.",
        "padding=1 keeps a 3x3 conv's output the size of its input; each MaxPool2d(2) halves it. "
        "AdaptiveAvgPool2d(4) then gives 32x4x4 whatever the input size, so fc takes 32*4*4 = 512.",
        "Common slips: a missing ReLU, padding left at 0, x.view(-1) (it merges the batch; "
        "torch.flatten(x, 1) keeps it), flattening after moving channels last, fc sized for the map "
        "before the adaptive pool, and .detach() or .data in forward, which stops the layers before "
        "it from learning.",
    ),
    time_limit_s=60.0,
)
