"""Worker side of p15: the learner's kernel on the run's device (correctness cases)."""

from __future__ import annotations

import torch

ENTRY = "depthwise_conv2d"


def device_call(env, x, weight, bias, stride, padding):
    """The learner's kernel on the run's device; returns the output, its device and the inputs
    as they are afterwards (the copies on the device, so in-place edits show there too)."""
    device = torch.device(env.device)
    args = [None if t is None else t.to(device) for t in (x, weight, bias)]
    fn = env.entry(ENTRY)
    with env.learner():
        out = fn(*args, stride=stride, padding=padding)
    where = out.device.type if type(out) is torch.Tensor else None
    if type(out) is torch.Tensor:
        out = out.cpu()  # the parent compares on the CPU; a CUDA error surfaces here, in the worker
    return {"out": out, "device": where, "after": [None if t is None else t.cpu() for t in args]}
