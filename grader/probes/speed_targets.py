"""Worker-side builders for timed work that is more than one function call (``kind: builder`` in
a ``SpeedCase``): p05's reference layer and p06's training steps on CUDA.

A builder is ``fn(env, inputs, seed, device, **kwargs) -> (call, state)``; ``call()`` takes no
argument, reads ``inputs["x"]`` when called (the engine swaps in a fresh input before each timed
call) and does not enter the guard (the engine's ``go`` does, around the timed window).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


# -- p05: the depthwise-separable layer computed from the learner's own weights -------------------
def separable_reference(env, inputs, seed, device, *, padding: int, state_dict: dict):
    """Depthwise conv (groups=C) then 1x1 pointwise conv with the learner layer's own weights
    (``state_dict`` keys ``depthwise.weight``/``.bias``, ``pointwise.weight``/``.bias``, the
    contract's names), in the input's dtype and on its device."""
    def call():
        x = inputs["x"]
        s = {k: v.to(device=x.device, dtype=x.dtype) for k, v in state_dict.items()}
        y = F.conv2d(x, s["depthwise.weight"], s.get("depthwise.bias"), padding=padding, groups=x.shape[1])
        return F.conv2d(y, s["pointwise.weight"], s.get("pointwise.bias"))
    return call, None


# -- p06: AMP training steps against the fp32 step, on CUDA ---------------------------------------
BATCH, SIZE, WIDTH, DEPTH, CLASSES = 64, 64, 128, 6, 10
INIT_SCALE = 2.0 ** 12  # a fresh scaler at 65536 may overflow and skip every warm-up step


def gpu_net() -> nn.Sequential:
    """ResNet-like 3x3 conv blocks at 128 channels on 64x64 images: compute-bound, channels_last."""
    layers = [nn.Conv2d(3, WIDTH, 3, padding=1, bias=False), nn.BatchNorm2d(WIDTH), nn.ReLU()]
    for _ in range(DEPTH):
        layers += [nn.Conv2d(WIDTH, WIDTH, 3, padding=1, bias=False), nn.BatchNorm2d(WIDTH), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(WIDTH, CLASSES)]
    return nn.Sequential(*layers)


def fp32_step(model, inputs, targets, optimizer) -> float:
    """The grader's fp32 step (the baseline): same recipe as the AMP step, without autocast."""
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(inputs), targets)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


def _training(seed: int, device: str):
    torch.manual_seed(seed)
    model = gpu_net().to(device, memory_format=torch.channels_last)
    gen = torch.Generator(device=device).manual_seed(seed)
    targets = torch.randint(0, CLASSES, (BATCH,), device=device, generator=gen)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, targets, optimizer


def training_steps(env, inputs, seed, device, *, mode: str, steps: int):
    """``steps`` training steps on the current batch ``inputs["x"]``: ``mode`` "amp" calls the
    learner's ``train_step(model, x, y, F.cross_entropy, optimizer, scaler, torch.float16)``,
    "fp32" the grader's ``fp32_step``. Returns the losses, the loss scale before and after, and
    whether the last layer's weights moved."""
    model, targets, optimizer = _training(seed, device)
    scaler = torch.amp.GradScaler(device, init_scale=INIT_SCALE, enabled=mode == "amp")
    learner_step = env.entry("train_step") if mode == "amp" else None

    def call():
        x = inputs["x"].contiguous(memory_format=torch.channels_last)
        before = model[-1].weight.detach().clone()
        scale = float(scaler.get_scale()) if scaler.is_enabled() else None
        losses = []
        for _ in range(steps):
            if learner_step is None:
                losses.append(fp32_step(model, x, targets, optimizer))
            else:
                losses.append(learner_step(model, x, targets, F.cross_entropy, optimizer, scaler,
                                           torch.float16))
        return {"losses": losses, "scale_before": scale,
                "scale_after": float(scaler.get_scale()) if scaler.is_enabled() else None,
                "changed": not torch.equal(before, model[-1].weight.detach())}
    return call, None
