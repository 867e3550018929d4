"""Worker-side probes of p05 (a depthwise-separable layer): build the learner's layer and report
its submodules' settings, parameters, outputs and gradients as plain data; the parent
(grader.problems.p05_depthwise_separable) judges them against its own float64 reference."""

from __future__ import annotations

import torch
import torch.nn as nn

CLASS = "DepthwiseSeparableConv2d"


def _build(env, config: dict, seed: int):
    cls = env.entry(CLASS)
    torch.manual_seed(seed)
    with env.learner():
        return cls(**config)


def _conv_settings(module) -> dict:
    if not isinstance(module, nn.Conv2d):
        return {"type": type(module).__name__}
    return {"type": "Conv2d", "in_channels": module.in_channels, "out_channels": module.out_channels,
            "kernel_size": tuple(module.kernel_size), "stride": tuple(module.stride),
            "padding": module.padding if isinstance(module.padding, str) else tuple(module.padding),
            "dilation": tuple(module.dilation), "groups": module.groups,
            "bias": module.bias is not None}


def structure(env, configs: list, seed: int) -> list:
    """For each config (the constructor's keyword arguments): the two submodules' settings, the
    parameter count and the state_dict."""
    rows = []
    for config in configs:
        layer = _build(env, config, seed)
        row = {"is_module": isinstance(layer, nn.Module)}
        for name in ("depthwise", "pointwise"):
            sub = getattr(layer, name, None)
            row[name] = None if sub is None else _conv_settings(sub)
        if row["is_module"]:
            row["parameters"] = sum(int(p.numel()) for p in layer.parameters())
            row["state_dict"] = {k: v for k, v in layer.state_dict().items() if type(v) is torch.Tensor}
        rows.append(row)
    return rows


def forward(env, config: dict, seed: int, x: torch.Tensor, grad_out: torch.Tensor | None):
    """Output for ``x``; with ``grad_out``, also d(sum(out * grad_out))/d(every parameter)."""
    layer = _build(env, config, seed)
    with env.learner():
        layer = layer.to(x.dtype)
        out = layer(x)
        grads = None
        if grad_out is not None and type(out) is torch.Tensor and out.shape == grad_out.shape:
            layer.zero_grad(set_to_none=True)
            (out * grad_out).sum().backward()
            grads = {name: p.grad for name, p in layer.named_parameters()}
    state = {k: v for k, v in layer.state_dict().items() if type(v) is torch.Tensor}
    return {"out": out, "state_dict": state, "grads": grads}
