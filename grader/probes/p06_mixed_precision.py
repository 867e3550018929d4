"""Worker side of p06 (mixed precision): run the learner's make_scaler, train_step and train on a
model, optimizer, scaler and data the grader builds here from plain values the parent sent, and
report what the grader's hooks saw. Verdicts are decided in the parent
(``grader.problems.p06_mixed_precision``), which runs the reference step itself on the same init.

The small net, the scaled loss and ``setup`` live here because both sides need the identical
construction; the parent imports them from this module (never the other way round).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.runner import plain

MAX_NORM = 1.0
INIT_SCALE = 2.0 ** 8  # small enough that fp16 activation gradients never overflow in the usual cases
LR, MOMENTUM = 0.1, 0.9
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def small_net(classes: int = 4) -> nn.Sequential:
    """Conv(3->8, 3x3) - ReLU - Conv(8->8, 3x3) - ReLU - global average pool - Linear(8->classes)."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))


class ScaledCrossEntropy(nn.Module):
    """Cross-entropy (computed in fp32) times a factor: lets a check choose how large the
    gradients are, e.g. small enough that unscaled fp16 gradients underflow to zero."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, logits, targets):
        return self.factor * F.cross_entropy(logits.float(), targets)


def setup(state: dict, dtype_name: str, factor: float, lr: float = LR, init_scale: float = INIT_SCALE):
    """(model, SGD(lr, momentum 0.9), GradScaler('cpu', init_scale; enabled for fp16 only), dtype,
    loss) built from a state dict: the same objects in the worker and in the parent's reference."""
    model = small_net()
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    dtype = DTYPES[dtype_name]
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, enabled=dtype == torch.float16)
    return model, optimizer, scaler, dtype, ScaledCrossEntropy(factor)


def make_scaler(env, device_type: str, dtype):
    """The learner's make_scaler(device_type, dtype), described: type, enabled, device."""
    with env.learner():
        scaler = env.entry("make_scaler")(device_type, dtype)
    if not isinstance(scaler, torch.amp.GradScaler):
        return {"type": plain.describe_type(scaler)}
    return {"type": "GradScaler", "enabled": bool(scaler.is_enabled()), "device": str(scaler._device)}


def train_step(env, state, inputs, targets, dtype_name, factor, steps, inject_inf=False, lr=LR,
               init_scale=INIT_SCALE, stale_grads=False):
    """Run the learner's train_step ``steps`` times on a model built from ``state``.

    ``inject_inf``: the last layer's gradient becomes inf (an fp16 overflow). ``stale_grads``:
    every parameter's ``.grad`` is filled with ones before the first call, as a previous
    backward would leave it. Reports the losses returned, the state after, the dtypes of conv
    outputs, parameters and gradients, and the scale after the last step.
    """
    model, optimizer, scaler, dtype, loss_fn = setup(state, dtype_name, factor, lr, init_scale)
    seen = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(
                lambda mod, args, out, name=name: seen.append((name, str(out.dtype))))
    if inject_inf:  # an overflowing gradient, as fp16 produces when the scale is too large
        model[-1].weight.register_hook(lambda g: torch.full_like(g, float("inf")))
    if stale_grads:
        for p in model.parameters():
            p.grad = torch.ones_like(p)
    train_step_fn = env.entry("train_step")
    losses = []
    for _ in range(steps):
        with env.learner():
            losses.append(train_step_fn(model, inputs.clone(), targets.clone(), loss_fn, optimizer, scaler, dtype))
    params = {n: str(p.dtype) for n, p in model.named_parameters()}
    grads = {n: str(p.grad.dtype) for n, p in model.named_parameters() if p.grad is not None}
    return {"losses": losses, "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "conv_outputs": seen, "params": params, "grads": grads,
            "scale": float(scaler.get_scale()) if scaler.is_enabled() else None}


class _EpochLoader:
    """A DataLoader that counts the passes over it (epochs), so that each train_step call can be
    attributed to the epoch it ran in. Everything else (len, dataset, batch_size) passes through."""

    def __init__(self, loader):
        self._loader = loader
        self.epoch = -1

    def __iter__(self):
        self.epoch += 1
        return iter(self._loader)

    def __len__(self):
        return len(self._loader)

    def __getattr__(self, name):
        return getattr(self._loader, name)


def _as_float(value) -> float:
    try:
        return float(value)
    except Exception:
        return math.nan


def train(env, state, images, labels, epochs, batch_size):
    """The learner's train(model, loader, epochs, cpu) on a model built from ``state``.

    The module's ``train_step`` is wrapped for the call, so the loss each step returned is
    recorded with the epoch it ran in: the parent checks the epoch means against those.
    Returns {"losses": what train returned, "state": the trained state dict,
    "steps": [[epoch, loss], ...], "batches": batches per epoch}.
    """
    model = small_net()
    model.load_state_dict(state)
    dataset = torch.utils.data.TensorDataset(images.clone(), labels.clone())
    loader = _EpochLoader(torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                                      generator=torch.Generator().manual_seed(0)))
    steps = []
    original = getattr(env.module, "train_step", None)
    if callable(original):
        def recorded_step(*args, **kwargs):
            value = original(*args, **kwargs)
            steps.append([loader.epoch, _as_float(value)])
            return value
        env.module.train_step = recorded_step
    try:
        with env.learner():
            losses = env.entry("train")(model, loader, epochs, torch.device("cpu"))
    finally:
        if callable(original):
            env.module.train_step = original
    return {"losses": losses, "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            "steps": steps, "batches": len(loader)}
