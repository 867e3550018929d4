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
from grader.checks.training import WALL_FACTOR
from grader.checks.verdict import Fail, passed
from grader.probes import p06_mixed_precision as probes
from grader.probes.p06_mixed_precision import DTYPES, INIT_SCALE, LR, MAX_NORM, MOMENTUM, small_net
from grader.runner import plain
from grader.runner.cputime import CpuMeter
from grader.spec import Check, ProblemSpec

UPDATE_RTOL = 0.05  # relative L2 of the parameter update vs the reference (fp16/bf16 forward)
LOSS_RTOL = 2e-2
# The underflow case: the loss is multiplied by 2^-22, so every gradient reaching fp16 is below
# half of fp16's smallest subnormal (2^-24) and rounds to zero unless the loss is scaled first;
# GradScaler(init_scale=2^20) brings them to about 2^-2 of their usual size, well inside fp16's
# range. The learning rate is raised by the same 2^22 so that the update has its usual size.
UNDERFLOW_FACTOR, UNDERFLOW_SCALE = 2.0 ** -22, 2.0 ** 20


def reference_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype, variant: str = "") -> float:
    """The trusted AMP step the learner's train_step is compared with (runs in the parent).

    ``variant`` replays a known mistake, so a diagnosis can name it only when it matches:
    "clip_scaled" (clip before unscale_), "no_clip", "unscaled" (a plain backward, no scaling).
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(inputs.device.type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    if variant == "unscaled":  # the scaler is never used, so it must not be called either
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        optimizer.step()
        return loss.item()
    scaler.scale(loss).backward()
    if variant == "clip_scaled":
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        scaler.unscale_(optimizer)
    else:
        scaler.unscale_(optimizer)
        if variant != "no_clip":
            nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


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


def _reference(state, inputs, targets, dtype_name, factor, steps, variant="", lr=LR, init_scale=INIT_SCALE):
    model, optimizer, scaler, dtype, loss_fn = probes.setup(state, dtype_name, factor, lr, init_scale)
    losses = [reference_step(model, inputs.clone(), targets.clone(), loss_fn, optimizer, scaler, dtype, variant)
              for _ in range(steps)]
    return losses, {k: v.detach().clone() for k, v in model.state_dict().items()}


def _run_step(ctx, state, inputs, targets, dtype_name, factor, steps, inject_inf=False, lr=LR,
              init_scale=INIT_SCALE, stale_grads=False):
    got = ctx.probe(probes.train_step, state, inputs, targets, dtype_name, factor, steps, inject_inf, lr,
                    init_scale, stale_grads, what="train_step()")
    if type(got) is not dict or type(got.get("state")) is not dict:
        raise Fail("the grader could not read back train_step()'s model")
    return got


def _describe(seed, dtype_name, factor_note, steps, lr=LR, init_scale=INIT_SCALE) -> str:
    return (f"{steps} step(s) of SGD(lr={lr:g}, momentum={MOMENTUM}) on a small conv net, {dtype_name} autocast"
            f"{', GradScaler(init_scale=%g)' % init_scale if dtype_name == 'fp16' else ''}, {factor_note}, "
            f"seed {seed}")


def _state_tensors(got_state: dict, ref_state: dict, where: str) -> None:
    for key, ref in ref_state.items():
        value = got_state.get(key)
        if type(value) is not torch.Tensor or value.shape != ref.shape:
            raise Fail(f"{where}: the model's {key} is missing or changed shape")
        if value.dtype != torch.float32:
            raise Fail(f"{where}: the model's {key} is {value.dtype} after train_step(); parameters must "
                       f"stay float32 (autocast casts copies inside the forward, the master weights stay fp32)")


def _delta(state, new_state) -> torch.Tensor:
    return torch.cat([(new_state[k].double() - state[k].double()).flatten() for k in state])


def _update_error(state, got_state, ref_state):
    """(relative L2 distance of the updates, learner update norm / reference update norm, cosine
    of the angle between the two updates)."""
    d_got, d_ref = _delta(state, got_state), _delta(state, ref_state)
    ref_norm = float(d_ref.norm())
    assert ref_norm > 0, "the reference step did not change the parameters"
    if not bool(torch.isfinite(d_got).all()):
        return math.inf, math.nan, math.nan
    got_norm = float(d_got.norm())
    cosine = float(d_got @ d_ref) / (got_norm * ref_norm) if got_norm > 0 else 0.0
    return float((d_got - d_ref).norm()) / ref_norm, got_norm / ref_norm, cosine


# Known mistakes the parent can replay exactly: if the learner's update matches one of them, the
# diagnosis names it; otherwise the message describes the update without guessing.
_VARIANTS = {
    "clip_scaled": ("the update matches clipping the gradients while they are still multiplied by the loss "
                    "scale (clip_grad_norm_ before scaler.unscale_(optimizer)): call scaler.unscale_(optimizer) "
                    "first, so the clip sees the true gradient norm"),
    "no_clip": f"the update matches no clipping at all: clip the unscaled gradients to total norm {MAX_NORM}",
    "unscaled": ("the update matches a plain loss.backward() without scaler.scale(loss): fp16 gradients this "
                 "small underflow to zero unless the loss is multiplied by the scale before backward"),
}


def _diagnose(state, got_state, case, variants) -> str:
    """Why a learner's update differs from the reference's: a replayed mistake it matches, else
    its size and direction relative to the reference update."""
    for variant in variants:
        _, variant_state = _reference(*case, variant=variant)
        if _delta(state, variant_state).norm() == 0:
            if _delta(state, got_state).norm() == 0:
                return _VARIANTS[variant] + " (the parameters did not change at all)"
            continue
        if _update_error(state, got_state, variant_state)[0] <= UPDATE_RTOL:
            return _VARIANTS[variant]
    _, ref_state = _reference(*case)
    _, ratio, cosine = _update_error(state, got_state, ref_state)
    if math.isnan(ratio):
        return "the parameters became inf/nan"
    if ratio == 0:
        return ("the parameters did not change at all: the optimizer step never took effect (are the gradients "
                "zeroed between backward and scaler.step, or is the step skipped?)")
    if cosine > 0.99:
        return (f"the update points the same way as the reference's but is {ratio:.3g}x its length (the "
                f"reference clips the unscaled gradients to a total norm of {MAX_NORM}; a clip to about "
                f"{ratio * MAX_NORM:.2g} or a learning-rate change would give this)")
    return f"the update is {ratio:.3g}x the reference's size, at an angle (cosine {cosine:.2f}) to it"


def _compare_update(state, got, ref_state, where, case, variants=("clip_scaled", "no_clip")):
    """Fail unless the learner's state after the step(s) matches the reference; ``case`` is the
    argument tuple of ``_reference`` (for replaying known mistakes in the diagnosis)."""
    _state_tensors(got["state"], ref_state, where)
    error, _, _ = _update_error(state, got["state"], ref_state)
    if error <= UPDATE_RTOL:
        return error
    why = _diagnose(state, got["state"], case, variants)
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
        got = ctx.probe(probes.make_scaler, device, dtype, what=f"make_scaler({device!r}, {dtype})")
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


def _step_check(target_norm: float, steps: int, dtypes):
    def run(ctx):
        state, inputs, targets, seed = _case(ctx)
        norm = _grad_norm(state, inputs, targets)
        factor = target_norm / norm  # the unscaled gradient norm is about target_norm
        worst = 0.0
        for dtype_name in dtypes:
            note = f"unscaled gradient norm about {target_norm:g}"
            where = _describe(seed, dtype_name, note, steps)
            case = (state, inputs, targets, dtype_name, factor, steps)
            _, ref_state = _reference(*case)
            got = _run_step(ctx, state, inputs, targets, dtype_name, factor, steps)
            worst = max(worst, _compare_update(state, got, ref_state, where, case))
        return passed(f"matches the reference step (update error {worst:.2g}, allowed {UPDATE_RTOL})",
                      measured=worst, threshold=UPDATE_RTOL)
    return run


def check_zeroes_stale_gradients(ctx):
    """Every .grad holds ones before the call, as a previous backward would leave it: the step must
    be the reference step all the same (gradients cleared first, not after the step)."""
    state, inputs, targets, seed = _case(ctx)
    factor = 0.2 / _grad_norm(state, inputs, targets)
    worst = 0.0
    for dtype_name in ("bf16", "fp16"):
        where = _describe(seed, dtype_name, "every parameter's .grad filled with ones before the call", 1)
        case = (state, inputs, targets, dtype_name, factor, 1)
        _, ref_state = _reference(*case)
        got = _run_step(ctx, state, inputs, targets, dtype_name, factor, 1, stale_grads=True)
        _state_tensors(got["state"], ref_state, where)
        error, _, _ = _update_error(state, got["state"], ref_state)
        if error > UPDATE_RTOL:
            clean = _run_step(ctx, state, inputs, targets, dtype_name, factor, 1)
            if _update_error(state, clean["state"], ref_state)[0] <= UPDATE_RTOL:
                why = ("without the stale gradients the same step matches, so the gradients already in .grad were "
                       "added to the new ones: clear them at the start of train_step (optimizer.zero_grad()), "
                       "not after the step; the caller owns what .grad holds before the call")
            else:
                why = _diagnose(state, got["state"], case, ("clip_scaled", "no_clip"))
            raise Fail(f"{where}: the parameters after train_step() differ from the reference AMP step by a relative "
                       f"L2 error of {error:.3g} in the update (allowed {UPDATE_RTOL}); {why}",
                       measured=error, threshold=UPDATE_RTOL)
        worst = max(worst, error)
    return passed(f"starts from zeroed gradients (update error {worst:.2g} with stale ones in .grad)",
                  measured=worst, threshold=UPDATE_RTOL)


def check_scales_loss(ctx):
    """A loss so small that its fp16 gradients underflow to zero unless it is scaled before
    backward: the scaled reference step still moves every parameter; an unscaled step does not."""
    state, inputs, targets, seed = _case(ctx)
    lr = LR / UNDERFLOW_FACTOR
    case = (state, inputs, targets, "fp16", UNDERFLOW_FACTOR, 1)
    where = _describe(seed, "fp16", f"loss multiplied by 2^{round(math.log2(UNDERFLOW_FACTOR))} so that unscaled "
                      f"fp16 gradients underflow", 1, lr=lr, init_scale=UNDERFLOW_SCALE)
    _, ref_state = _reference(*case, lr=lr, init_scale=UNDERFLOW_SCALE)
    got = _run_step(ctx, state, inputs, targets, "fp16", UNDERFLOW_FACTOR, 1, lr=lr, init_scale=UNDERFLOW_SCALE)
    _state_tensors(got["state"], ref_state, where)
    error, _, _ = _update_error(state, got["state"], ref_state)
    if error > UPDATE_RTOL:
        why = ""
        _, unscaled = _reference(*case, variant="unscaled", lr=lr, init_scale=UNDERFLOW_SCALE)
        if _delta(state, got["state"]).norm() == 0 and _delta(state, unscaled).norm() == 0:
            why = (f"the parameters did not change at all, as with a plain loss.backward(): every fp16 gradient "
                   f"of this loss is below fp16's smallest value and becomes 0, unless the loss is multiplied by the "
                   f"scale first (scaler.scale(loss).backward(), here by {UNDERFLOW_SCALE:g}); the reference's "
                   f"gradients survive and it updates every parameter")
        raise Fail(f"{where}: the parameters after train_step() differ from the reference AMP step by a relative L2 "
                   f"error of {error:.3g} in the update (allowed {UPDATE_RTOL}); "
                   f"{why or _update_description(state, got['state'], ref_state)}",
                   measured=error, threshold=UPDATE_RTOL)
    return passed(f"gradients that underflow fp16 unscaled survive the scaled backward (update error {error:.2g})",
                  measured=error, threshold=UPDATE_RTOL)


def _update_description(state, got_state, ref_state) -> str:
    _, ratio, cosine = _update_error(state, got_state, ref_state)
    if math.isnan(ratio):
        return "the parameters became inf/nan"
    return f"the update is {ratio:.3g}x the reference's size (cosine {cosine:.2f} to it)"


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


# Training: 4 classes, each a fixed random 3x8x8 image plus noise; 8 batches of 32 per epoch, 12
# epochs (96 steps), with which the usual defaults (SGD lr 0.01 momentum 0.9, Adam/AdamW lr 1e-3)
# reach at most 0.41x the initial loss on 20 seeds (docs/benchmarks.md); without learning it
# stays at 1x, and a diverging learning rate rises or goes non-finite.
TRAIN_EPOCHS, TRAIN_N, TRAIN_BATCH = 12, 256, 32
TRAIN_CPU_S = 20.0  # CPU seconds for train() (all threads, the parent's reading); it needs ~0.5 s
TRAIN_DROP = 0.6  # the trained model's fp32 loss must be at most this fraction of the initial one
EPOCH_MEAN_ATOL, EPOCH_MEAN_RTOL = 1e-5, 1e-4  # float rounding of a sum of 8 losses; a total off by 1/256 fails


def epoch_mean_problem(returned: list[float], steps: list, epochs: int, batches: int) -> str:
    """Why the epoch losses ``train`` returned are not the means of the losses its train_step calls
    returned in each epoch (``steps``: [[epoch, loss], ...]), or "" when they are."""
    by_epoch = [[loss for epoch, loss in steps if epoch == e] for e in range(epochs)]
    if not steps:
        return ("train() never called train_step(): train must run train_step on every batch of every epoch, "
                "so the grader could not check the epoch means")
    for e, losses in enumerate(by_epoch):
        if len(losses) != batches:
            return (f"in epoch {e + 1} train_step() ran {len(losses)} times for the {batches} batches of the loader: "
                    f"one step per batch, one pass over the loader per epoch")
        mean = sum(losses) / len(losses)
        if not math.isclose(returned[e], mean, rel_tol=EPOCH_MEAN_RTOL, abs_tol=EPOCH_MEAN_ATOL):
            return (f"epoch {e + 1}'s returned loss is {returned[e]:.6g}, but the {batches} losses train_step() returned "
                    f"in that epoch average {mean:.6g} (off by {returned[e] - mean:+.3g}): return the mean of the "
                    f"batch losses of each epoch (does a running total start at 0?)")
    return ""


def check_train(ctx):
    gen = ctx.generator()
    seed = ctx.case_seed()
    model = _seeded_net(seed)
    state = dict(model.state_dict())
    # Classes differ in their channel means (which survive global average pooling) and pattern.
    templates = 1.5 * torch.randn(4, 3, 1, 1, generator=gen) + 0.5 * torch.randn(4, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 4, (TRAIN_N,), generator=gen)
    images = templates[labels] + 0.5 * torch.randn(TRAIN_N, 3, 8, 8, generator=gen)
    where = (f"train(model, loader, epochs={TRAIN_EPOCHS}, device=cpu) on {TRAIN_N} images of 4 classes in batches "
             f"of {TRAIN_BATCH} (seed {seed})")
    limit = TRAIN_CPU_S * ctx.time_scale
    meter = CpuMeter(ctx.learner_worker().pid)
    start = meter.read()

    def watch():
        used = meter.read() - start
        if used > limit:
            raise Fail(f"{where}: train() was still running after {used:.1f} s of CPU time (all threads; the limit "
                       f"is {limit:.0f} s, and 96 steps of this small net take well under a second), so the grader "
                       f"stopped it", measured=round(used, 2), threshold=limit, unit="s")

    got = ctx.probe(probes.train, state, images, labels, TRAIN_EPOCHS, TRAIN_BATCH, what="train()",
                    timeout_s=WALL_FACTOR * limit + 10 * ctx.time_scale, watch=watch)
    losses = got.get("losses") if type(got) is dict else None
    if type(losses) is not list or len(losses) != TRAIN_EPOCHS or any(type(v) is not float for v in losses):
        shown = (f"a list of {len(losses)} values of types {sorted({plain.foreign_description(v) for v in losses})}"
                 if type(losses) is list else plain.foreign_description(losses))
        raise Fail(f"{where}: expected a list of {TRAIN_EPOCHS} floats (the mean loss of each epoch), got {shown}")
    with torch.no_grad():
        before = float(F.cross_entropy(model(images), labels))
        trained = small_net()
        _state_tensors(got["state"], state, where)
        trained.load_state_dict(got["state"])
        after = float(F.cross_entropy(trained(images), labels))
    ratio = after / before
    shown = ", ".join(f"{v:.4g}" for v in losses)
    if not math.isfinite(after) or not all(math.isfinite(v) for v in losses) or ratio > 1.0:
        raise Fail(f"{where}: the loss diverged: the trained model's loss (recomputed by the grader in fp32) went from "
                   f"{before:.4g} to {after:.4g}; returned epoch losses {shown}. The learning rate is too high for "
                   f"this model (the usual defaults: SGD lr 0.01 with momentum 0.9, Adam/AdamW lr 1e-3)",
                   measured=ratio if math.isfinite(ratio) else None, threshold=TRAIN_DROP)
    if ratio > TRAIN_DROP:
        raise Fail(f"{where}: the model barely learned: its loss (recomputed by the grader in fp32) went from "
                   f"{before:.4g} to {after:.4g}, {ratio:.2f}x; expected at most {TRAIN_DROP}x. Returned epoch "
                   f"losses {shown}", measured=ratio, threshold=TRAIN_DROP)
    steps = got.get("steps") if type(got.get("steps")) is list else []
    steps = [s for s in steps if type(s) is list and len(s) == 2 and type(s[0]) is int and type(s[1]) is float]
    problem = epoch_mean_problem(losses, steps, TRAIN_EPOCHS, TRAIN_N // TRAIN_BATCH)
    if problem:
        raise Fail(f"{where}: {problem}")
    return passed(f"loss {before:.3g} -> {after:.3g} ({ratio:.2f}x, allowed {TRAIN_DROP}x); epoch means match "
                  f"the batch losses", measured=ratio, threshold=TRAIN_DROP)


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
        Check("starts from zeroed gradients", "correctness", 1, check_zeroes_stale_gradients),
        Check("scales the loss before backward", "correctness", 2, check_scales_loss),
        Check("step matches the reference AMP step", "correctness", 2,
              _step_check(0.2, 2, ("fp16", "bf16"))),
        Check("clips unscaled gradients to norm 1.0", "correctness", 2,
              _step_check(6.0, 1, ("fp16",))),
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
    time_limit_s=300.0,  # a wall-clock outer stop: the CPU checks need about 10 s of CPU time
)
