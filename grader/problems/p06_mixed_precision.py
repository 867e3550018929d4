"""p06: mixed-precision training: autocast, a gradient scaler, clipping on unscaled gradients.

CPU checks (always run on the CPU, whatever --device says, because they test the recipe, not the
hardware): probes build a small conv net from a state dict made here, in the parent, plus the
optimizer, the scaler and the data, call the learner's function under ``with env.learner():``
and return plain data (dtypes seen by forward hooks, the updated state dict, the returned loss).
The parent runs the reference step itself on the identical init, data and optimizer and compares.

Autocast is never timed on the CPU: bf16 autocast there ran 15-36x slower than fp32 on the
project's machines, so any CPU speed verdict would be noise. The GPU checks are in the last
section (needs_cuda: skipped, never passed, on a machine without a GPU).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.checks.timing import SpeedCase, memory_verdict, speed_verdict
from grader.checks.timing.measure import measure
from grader.checks.verdict import Fail, passed
from grader.runner import plain
from grader.spec import Check, ProblemSpec

MAX_NORM = 1.0
INIT_SCALE = 2.0 ** 8  # small enough that fp16 activation gradients never overflow here
LR, MOMENTUM = 0.1, 0.9
UPDATE_RTOL = 0.05  # relative L2 of the parameter update vs the reference (fp16/bf16 forward)
LOSS_RTOL = 2e-2
HERE = "grader.problems.p06_mixed_precision"
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


# -- shared by parent and worker --------------------------------------------------------------
def small_net(classes: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))


class ScaledCrossEntropy(nn.Module):
    """Cross-entropy times a factor: lets a check choose how large the gradient norm is."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, logits, targets):
        return self.factor * F.cross_entropy(logits.float(), targets)


def reference_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) -> float:
    """The trusted AMP step the learner's train_step is compared with (runs in the parent)."""
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(inputs.device.type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


def _setup(state: dict, dtype_name: str, factor: float):
    model = small_net()
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    dtype = DTYPES[dtype_name]
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE, enabled=dtype == torch.float16)
    return model, optimizer, scaler, dtype, ScaledCrossEntropy(factor)


# -- worker side ----------------------------------------------------------------------------
def scaler_probe(env, device_type: str, dtype):
    with env.learner():
        scaler = env.entry("make_scaler")(device_type, dtype)
    if not isinstance(scaler, torch.amp.GradScaler):
        return {"type": plain.describe_type(scaler)}
    return {"type": "GradScaler", "enabled": bool(scaler.is_enabled()), "device": str(scaler._device)}


def step_probe(env, state, inputs, targets, dtype_name, factor, steps, inject_inf=False):
    """Run the learner's train_step ``steps`` times; report what the grader's hooks saw."""
    model, optimizer, scaler, dtype, loss_fn = _setup(state, dtype_name, factor)
    seen = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(
                lambda mod, args, out, name=name: seen.append((name, str(out.dtype))))
    if inject_inf:  # an overflowing gradient, as fp16 produces when the scale is too large
        model[-1].weight.register_hook(lambda g: torch.full_like(g, float("inf")))
    train_step = env.entry("train_step")
    losses = []
    for _ in range(steps):
        with env.learner():
            losses.append(train_step(model, inputs.clone(), targets.clone(), loss_fn, optimizer, scaler, dtype))
    params = {n: str(p.dtype) for n, p in model.named_parameters()}
    grads = {n: str(p.grad.dtype) for n, p in model.named_parameters() if p.grad is not None}
    return {"losses": losses, "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "conv_outputs": seen, "params": params, "grads": grads,
            "scale": float(scaler.get_scale()) if scaler.is_enabled() else None}


def train_probe(env, state, images, labels, epochs):
    model = small_net()
    model.load_state_dict(state)
    dataset = torch.utils.data.TensorDataset(images.clone(), labels.clone())
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    with env.learner():
        losses = env.entry("train")(model, loader, epochs, torch.device("cpu"))
    return {"losses": losses, "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}


# -- parent side ----------------------------------------------------------------------------
def _seeded_net(seed: int) -> nn.Sequential:
    with torch.random.fork_rng(devices=[]):  # nn init draws from the global generator
        torch.manual_seed(seed)
        return small_net()


def _case(ctx, index: int = 0, n: int = 16, size: int = 8):
    gen = ctx.generator(index)
    state = dict(_seeded_net(ctx.case_seed(index)).state_dict())  # a plain dict crosses the boundary
    offset = float(torch.empty(()).uniform_(-0.5, 0.5, generator=gen))
    inputs = torch.randn(n, 3, size, size, generator=gen) * 2 + offset
    targets = torch.randint(0, 4, (n,), generator=gen)
    return state, inputs, targets, ctx.case_seed(index)


def _grad_norm(state, inputs, targets) -> float:
    model = small_net()
    model.load_state_dict(state)
    F.cross_entropy(model(inputs), targets).backward()
    return float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm())


def _reference(state, inputs, targets, dtype_name, factor, steps):
    model, optimizer, scaler, dtype, loss_fn = _setup(state, dtype_name, factor)
    losses = [reference_step(model, inputs.clone(), targets.clone(), loss_fn, optimizer, scaler, dtype)
              for _ in range(steps)]
    return losses, {k: v.detach().clone() for k, v in model.state_dict().items()}


def _run_step(ctx, state, inputs, targets, dtype_name, factor, steps, inject_inf=False):
    got = ctx.probe(f"{HERE}:step_probe", state, inputs, targets, dtype_name, factor, steps, inject_inf,
                    what="train_step()")
    if type(got) is not dict or type(got.get("state")) is not dict:
        raise Fail("the grader could not read back train_step()'s model")
    return got


def _describe(seed, dtype_name, factor_note, steps) -> str:
    return (f"{steps} step(s) of SGD(lr={LR}, momentum={MOMENTUM}) on a small conv net, {dtype_name} autocast"
            f"{', GradScaler(init_scale=%g)' % INIT_SCALE if dtype_name == 'fp16' else ''}, {factor_note}, "
            f"seed {seed}")


def _state_tensors(got_state: dict, ref_state: dict, where: str) -> None:
    for key, ref in ref_state.items():
        value = got_state.get(key)
        if type(value) is not torch.Tensor or value.shape != ref.shape:
            raise Fail(f"{where}: the model's {key} is missing or changed shape")
        if value.dtype != torch.float32:
            raise Fail(f"{where}: the model's {key} is {value.dtype} after train_step(); parameters must "
                       f"stay float32 (autocast casts copies inside the forward, the master weights stay fp32)")


def _update_error(state, got_state, ref_state):
    """(relative L2 distance of the updates, learner update norm / reference update norm)."""
    keys = list(ref_state)
    d_got = torch.cat([(got_state[k].double() - state[k].double()).flatten() for k in keys])
    d_ref = torch.cat([(ref_state[k].double() - state[k].double()).flatten() for k in keys])
    ref_norm = float(d_ref.norm())
    assert ref_norm > 0, "the reference step did not change the parameters"
    if not bool(torch.isfinite(d_got).all()):
        return math.inf, math.nan
    return float((d_got - d_ref).norm()) / ref_norm, float(d_got.norm()) / ref_norm


def _compare_update(state, got, ref_state, where, grad_norm, clipping_expected):
    _state_tensors(got["state"], ref_state, where)
    error, ratio = _update_error(state, got["state"], ref_state)
    if error <= UPDATE_RTOL:
        return error
    if math.isnan(ratio):
        why = "the parameters became inf/nan"
    elif ratio == 0:
        why = ("the parameters did not change at all: the optimizer step never took effect (are the "
               "gradients zeroed between backward and scaler.step?)")
    elif ratio < 0.1:
        why = (f"the update is {ratio:.3g}x the reference's, about 1/scale: the gradients were clipped while "
               f"still multiplied by the loss scale. Call scaler.unscale_(optimizer) before clip_grad_norm_")
    elif clipping_expected and ratio > 1.5:
        why = (f"the update is {ratio:.3g}x the reference's, about the unclipped gradient norm "
               f"({grad_norm:.3g}): clip the unscaled gradients to norm {MAX_NORM}")
    elif ratio > 1:
        why = (f"the update is {ratio:.3g}x the reference's size: often gradients left over from the "
               "previous call (train_step must start from zeroed gradients)")
    else:
        why = f"the update is {ratio:.3g}x the reference's size"
    raise Fail(f"{where}: the parameters after train_step() differ from the reference AMP step by a "
               f"relative L2 error of {error:.3g} in the update (allowed {UPDATE_RTOL}); {why}",
               measured=error, threshold=UPDATE_RTOL)


def check_autocast_dtype(ctx):
    for device, want in (("cpu", torch.bfloat16), ("cuda", torch.float16)):
        got = ctx.call("autocast_dtype", device)
        if got != {"__dtype__": str(want)}:
            shown = got["__dtype__"] if type(got) is dict and "__dtype__" in got else plain.foreign_description(got)
            raise Fail(f"autocast_dtype({device!r}) returned {shown}, expected {want} "
                       f"({'CPUs have fast bf16 paths and no fp16 GEMMs' if device == 'cpu' else 'fp16 with a GradScaler is the standard CUDA recipe'})")
    return passed("bf16 on CPU, fp16 on CUDA")


def check_make_scaler(ctx):
    cases = [("cpu", torch.bfloat16, False), ("cpu", torch.float16, True), ("cuda", torch.bfloat16, False),
             ("cpu", torch.float32, False)]
    # The CUDA fp16 case needs CUDA in the worker: only a --device cuda run has it (a --device cpu
    # worker runs under RLIMIT_AS, where CUDA cannot start, even on a GPU host; issue 11 item 4).
    if ctx.device == "cuda":
        cases.append(("cuda", torch.float16, True))
    for device, dtype, enabled in cases:
        got = ctx.probe(f"{HERE}:scaler_probe", device, dtype, what=f"make_scaler({device!r}, {dtype})")
        call = f"make_scaler({device!r}, {dtype})"
        if type(got) is not dict or got.get("type") != "GradScaler":
            kind = got.get("type") if type(got) is dict else "?"
            raise Fail(f"{call} returned {kind}, expected a torch.amp.GradScaler")
        if got["enabled"] != enabled:
            why = ("fp16 has 5 exponent bits: small gradients underflow without loss scaling" if enabled else
                   "bf16 and fp32 have fp32's exponent range, so they need no loss scaling")
            raise Fail(f"{call} returned a GradScaler with enabled={got['enabled']}, expected "
                       f"enabled={enabled}: {why}")
        if enabled and got["device"] != device:
            raise Fail(f"{call} returned a GradScaler for device {got['device']!r}, expected {device!r}")
    note = "" if ctx.device == "cuda" else " (the CUDA fp16 case runs with --device cuda only and was not tried)"
    return passed("enabled for fp16 only, on the right device" + note)


def check_autocast_forward(ctx):
    state, inputs, targets, seed = _case(ctx)
    for dtype_name in ("bf16", "fp16"):
        got = _run_step(ctx, state, inputs, targets, dtype_name, 1.0, 1)
        outputs = got.get("conv_outputs") or []
        if not outputs:
            raise Fail(f"train_step() with dtype {DTYPES[dtype_name]} (seed {seed}) never ran the model's forward")
        want = str(DTYPES[dtype_name])
        for name, dtype in outputs:
            if dtype != want:
                raise Fail(f"train_step(..., dtype={want}) (seed {seed}): the output of conv layer {name} was "
                           f"{dtype}, expected {want}: run the forward and the loss inside "
                           f"torch.autocast(device_type=inputs.device.type, dtype=dtype)")
    return passed("conv outputs come out bf16 / fp16 under autocast")


def check_fp32_params(ctx):
    state, inputs, targets, seed = _case(ctx)
    for dtype_name in ("bf16", "fp16"):
        got = _run_step(ctx, state, inputs, targets, dtype_name, 1.0, 1)
        where = f"train_step(..., dtype={DTYPES[dtype_name]}) (seed {seed})"
        for kind in ("params", "grads"):
            for name, dtype in (got.get(kind) or {}).items():
                if dtype != "torch.float32":
                    label = "parameter" if kind == "params" else "gradient of"
                    raise Fail(f"{where}: {label} {name} is {dtype}, expected torch.float32: keep the model in "
                               f"fp32 and let autocast cast per op (do not call model.half() / .to(dtype))")
        _state_tensors(got["state"], state, where)
    return passed("parameters and gradients stay float32")


def check_inf_skips_step(ctx):
    state, inputs, targets, seed = _case(ctx)
    where = f"train_step() with fp16, GradScaler(init_scale={INIT_SCALE:g}) and an inf injected into fc's gradient (seed {seed})"
    got = _run_step(ctx, state, inputs, targets, "fp16", 1.0, 1, inject_inf=True)
    _state_tensors(got["state"], state, where)
    changed = [k for k in state if not torch.equal(got["state"][k], state[k])]
    if changed:
        raise Fail(f"{where}: the optimizer step was not skipped; {', '.join(changed)} changed. Step through "
                   f"scaler.step(optimizer), which skips the step when the unscaled gradients are not finite")
    scale = got.get("scale")
    if scale != INIT_SCALE * 0.5:
        raise Fail(f"{where}: the loss scale is {scale} after the step, expected {INIT_SCALE * 0.5:g} "
                   f"(halved after an overflow): call scaler.update() once per step")
    return passed("the step is skipped and the scale halves")


def _step_check(target_norm: float, steps: int, dtypes, clipping: bool):
    def run(ctx):
        state, inputs, targets, seed = _case(ctx)
        norm = _grad_norm(state, inputs, targets)
        factor = target_norm / norm  # the unscaled gradient norm is about target_norm
        worst = 0.0
        for dtype_name in dtypes:
            note = f"unscaled gradient norm about {target_norm:g}"
            where = _describe(seed, dtype_name, note, steps)
            _, ref_state = _reference(state, inputs, targets, dtype_name, factor, steps)
            got = _run_step(ctx, state, inputs, targets, dtype_name, factor, steps)
            worst = max(worst, _compare_update(state, got, ref_state, where, target_norm, clipping))
        return passed(f"matches the reference step (update error {worst:.2g}, allowed {UPDATE_RTOL})",
                      measured=worst, threshold=UPDATE_RTOL)
    return run


def check_returns_float(ctx):
    state, inputs, targets, seed = _case(ctx)
    ref_losses, _ = _reference(state, inputs, targets, "fp16", 1.0, 1)
    got = _run_step(ctx, state, inputs, targets, "fp16", 1.0, 1)
    loss = got["losses"][0] if type(got.get("losses")) is list and got["losses"] else None
    where = f"train_step() with fp16 and GradScaler(init_scale={INIT_SCALE:g}) (seed {seed})"
    if type(loss) is not float:
        hint = (" (return loss.item(): a tensor keeps the autograd graph alive and syncs later)"
                if type(loss) is torch.Tensor else "")
        raise Fail(f"{where}: train_step() returned {plain.foreign_description(loss)}, expected a Python float{hint}")
    if not math.isclose(loss, ref_losses[0], rel_tol=LOSS_RTOL):
        ratio = loss / ref_losses[0] if ref_losses[0] else math.inf
        hint = " (that is the scaled loss: return the loss before scaler.scale)" if math.isclose(
            ratio, INIT_SCALE, rel_tol=0.05) else ""
        raise Fail(f"{where}: train_step() returned {loss:.6g}, expected the loss {ref_losses[0]:.6g}{hint}")
    return passed("returns the (unscaled) loss as a float")


# Training: 4 classes, each a fixed random 3x8x8 image plus noise; easy to learn in a few epochs.
TRAIN_EPOCHS, TRAIN_N, TRAIN_LIMIT_S = 3, 256, 60.0
TRAIN_DROP = 0.75  # the trained model's fp32 loss must be at most this fraction of the initial one


def check_train(ctx):
    gen = ctx.generator()
    seed = ctx.case_seed()
    model = _seeded_net(seed)
    state = dict(model.state_dict())
    # Classes differ in their channel means (which survive global average pooling) and pattern.
    templates = 1.5 * torch.randn(4, 3, 1, 1, generator=gen) + 0.5 * torch.randn(4, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 4, (TRAIN_N,), generator=gen)
    images = templates[labels] + 0.5 * torch.randn(TRAIN_N, 3, 8, 8, generator=gen)
    where = f"train(model, loader, epochs={TRAIN_EPOCHS}, device=cpu) on {TRAIN_N} images of 4 classes (seed {seed})"
    got = ctx.probe(f"{HERE}:train_probe", state, images, labels, TRAIN_EPOCHS, what="train()",
                    timeout_s=TRAIN_LIMIT_S * ctx.time_scale)
    losses = got.get("losses") if type(got) is dict else None
    if type(losses) is not list or len(losses) != TRAIN_EPOCHS or any(type(v) is not float for v in losses):
        shown = (f"a list of {len(losses)} values of types {sorted({plain.foreign_description(v) for v in losses})}"
                 if type(losses) is list else plain.foreign_description(losses))
        raise Fail(f"{where}: expected a list of {TRAIN_EPOCHS} floats (the mean loss of each epoch), got {shown}")
    if not all(math.isfinite(v) for v in losses):
        raise Fail(f"{where}: the returned losses are not all finite: {losses}")
    with torch.no_grad():
        before = float(F.cross_entropy(model(images), labels))
        trained = small_net()
        _state_tensors(got["state"], state, where)
        trained.load_state_dict(got["state"])
        after = float(F.cross_entropy(trained(images), labels))
    ratio = after / before
    if not math.isfinite(ratio) or ratio > TRAIN_DROP:
        raise Fail(f"{where}: the trained model's loss (recomputed by the grader in fp32) went from {before:.4g} to "
                   f"{after:.4g}, {ratio:.2f}x; expected at most {TRAIN_DROP}x. Returned epoch losses: "
                   + ", ".join(f"{v:.4g}" for v in losses), measured=ratio, threshold=TRAIN_DROP)
    if not losses[-1] < losses[0]:
        raise Fail(f"{where}: the returned epoch losses do not fall ({losses[0]:.4g} -> {losses[-1]:.4g}) although "
                   f"the model did learn: return each epoch's mean training loss")
    return passed(f"loss {before:.3g} -> {after:.3g} ({ratio:.2f}x, allowed {TRAIN_DROP}x)",
                  measured=ratio, threshold=TRAIN_DROP)


# -- GPU checks (CUDA only; uncalibrated: written without a GPU) ---------------------------------
# AMP must make a compute-bound conv net's training step faster and smaller. Both checks run on the
# timing engine (grader.checks.timing): the learner's train_step (fp16 autocast + GradScaler) and
# the grader's fp32 step (grader.probes.speed_targets) each run STEPS steps per timed call on a
# fresh random batch, interleaved, timed with CUDA events checked against the parent's clock.
#
# The baseline is fp32 with PyTorch's defaults, i.e. cuDNN convolutions in TF32: what a learner's
# fp32 code gets. Against TF32 the hardware ceiling of AMP is about 2x on H100/H200 (dense fp16
# ~989 TFLOP/s vs TF32 ~494), before launch overhead and GradScaler's per-step sync, so "2x faster"
# would fail a correct AMP step; NVIDIA reports 2.3-2.6x over TF32 for conv nets on A100 (whose
# fp16/TF32 peak ratio is also 2x, gained partly from memory traffic). The threshold is therefore a
# time ratio of at most 0.7 (a speed-up of 1.43x or more): well under the ceiling, far from the
# ~1.0 of a step that does not use fp16. UNCALIBRATED: to be set below what the reference reaches
# on 20 runs (scripts/gpu_check.sh). The grader's scaler starts at 2**12 (a fresh one at 65536
# may overflow and skip every warm-up step), and at most one step in STEPS may be skipped.
AMP_TIME_MAX, MEMORY_MAX = 0.7, 0.7  # uncalibrated
STEPS = 5
BASELINE = "the fp32 step (cuDNN TF32 on, PyTorch's default)"


def _verify_steps(got, expected, label: str) -> None:
    """Parent side: the learner's timed steps returned finite float losses, moved the weights, and
    (read from the loss scale, which halves on every skipped step) skipped at most one step."""
    if type(got) is not dict:
        raise Fail(f"{label}: the grader could not read back the GPU run")
    losses = got.get("losses")
    if type(losses) is not list or len(losses) != STEPS or not all(
            type(v) is float and math.isfinite(v) for v in losses):
        raise Fail(f"train_step() on CUDA with fp16 returned {losses!r}, expected {STEPS} finite floats")
    if got.get("changed") is not True:
        raise Fail("train_step() on CUDA with fp16 did not change the parameters: every step was skipped")
    before, after = got.get("scale_before"), got.get("scale_after")
    if type(before) is float and type(after) is float and after > 0:
        skipped = round(math.log2(before / after)) if after < before else 0
        if skipped > 1:
            raise Fail(f"{label}: {skipped} of {STEPS} timed steps were skipped (the loss scale fell from "
                       f"{before:g} to {after:g}); a skipped step does no optimizer work, so it cannot be timed")


def _gpu_case() -> tuple:
    from grader.probes import speed_targets as targets

    label = (f"batch {targets.BATCH}x3x{targets.SIZE}x{targets.SIZE}, {targets.DEPTH + 1} conv blocks of "
             f"{targets.WIDTH} channels, channels_last, {STEPS} steps per call")
    builder = "grader.probes.speed_targets:training_steps"
    return (SpeedCase(label, {"x": (targets.BATCH, 3, targets.SIZE, targets.SIZE)},
                      learner={"kind": "builder", "name": builder, "kwargs": {"mode": "amp", "steps": STEPS},
                               "no_grad": False, "what": "train_step()"},
                      baseline={"kind": "builder", "name": builder, "kwargs": {"mode": "fp32", "steps": STEPS},
                                "no_grad": False},
                      verify=_verify_steps),)


def check_gpu_speed(ctx):
    m = measure(ctx, _gpu_case(), threshold=AMP_TIME_MAX, baseline_name=BASELINE, device="cuda",
                min_rounds=6, max_rounds=15, time_cap_s=20.0)
    return speed_verdict(m, threshold=AMP_TIME_MAX, baseline_name=BASELINE)


def check_gpu_memory(ctx):
    m = measure(ctx, _gpu_case(), threshold=AMP_TIME_MAX * 3, baseline_name=BASELINE, device="cuda",
                min_rounds=2, max_rounds=2, memory=True)
    return memory_verdict(m, threshold=MEMORY_MAX, what="fp16 AMP", baseline_name="fp32")


GPU_CHECKS = (
    Check("CUDA: AMP step at most 0.7x the fp32 step's time", "speed", 2, check_gpu_speed, needs_cuda=True),
    Check("CUDA: AMP peak memory at most 0.7x fp32", "speed", 1, check_gpu_memory, needs_cuda=True),
)


SPEC = ProblemSpec(
    id="p06",
    name="mixed_precision",
    title="Mixed-precision training",
    question=6,
    question_text="What is mixed-precision training, and how do you implement it?",
    entry_points=("autocast_dtype", "make_scaler", "train_step", "train"),
    checks=(
        Check("autocast_dtype", "correctness", 1, check_autocast_dtype),
        Check("make_scaler", "correctness", 1, check_make_scaler),
        Check("forward runs under autocast", "correctness", 2, check_autocast_forward),
        Check("parameters stay fp32", "correctness", 1, check_fp32_params),
        Check("inf gradient skips the step", "correctness", 2, check_inf_skips_step),
        Check("step matches the reference AMP step", "correctness", 2,
              _step_check(0.2, 2, ("fp16", "bf16"), clipping=False)),
        Check("clips unscaled gradients to norm 1.0", "correctness", 2,
              _step_check(6.0, 1, ("fp16",), clipping=True)),
        Check("returns the loss as a float", "correctness", 1, check_returns_float),
        Check("loss falls with train()", "training", 2, check_train),
        *GPU_CHECKS,
    ),
    hints=(
        "Mixed precision runs the forward in a 16-bit type (fast, half the memory) while the master "
        "weights, the optimizer and the loss stay fp32. torch.autocast picks the type per op; fp16 "
        "also needs a GradScaler because its tiny gradients underflow.",
        "Order matters: forward and loss inside torch.autocast(device_type, dtype); then "
        "scaler.scale(loss).backward(); then scaler.unscale_(optimizer) BEFORE clipping, so the clip "
        "sees the true gradient norm; then scaler.step(optimizer) and scaler.update().",
        "scaler.step skips the step when the unscaled gradients hold inf/nan, and scaler.update "
        "halves the scale then. A disabled scaler (bf16) makes every one of these calls a no-op, so one "
        "train_step serves both dtypes. Return loss.item().",
    ),
    time_limit_s=120.0,
)
