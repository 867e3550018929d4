"""Worker-side probes of p10 (bias and activation): they run the learner's code and gather tensors;
every verdict is computed in the parent (grader.problems.p10_bias_activation)."""

from __future__ import annotations

import torch
import torch.nn as nn

from grader.runner import plain

CONV_ATTRIBUTES = ("stride", "padding", "dilation", "groups", "padding_mode")


def _options(stride, padding) -> tuple:
    """The trailing apply() arguments: none when both are at their default (stride 1, padding 0),
    so that Conv2dBiasReLU.forward's own defaults are exercised."""
    return () if (stride in (1, (1, 1)) and padding in (0, (0, 0))) else (stride, padding)


def backward(env, x, weight, bias, stride, padding, grad_out, requires=(True, True, True)):
    """Run Conv2dBiasReLU.apply, then its backward on ``grad_out``, all under the guard.

    ``requires`` says which of (x, weight, bias) require gradients, so the backward also meets
    ctx.needs_input_grad with some of them False. The backward is reached through the autograd
    node that apply() recorded (grad_fn.apply, what the engine calls) rather than through
    torch.autograd.grad: the engine is itself what the guard bans, and tensor hooks the learner
    might register would run outside the guard. Returns {"out", "grads", "args"} or {"problem"}.
    """
    cls = env.entry("Conv2dBiasReLU")
    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        return {"problem": f"Conv2dBiasReLU must be a subclass of torch.autograd.Function, "
                           f"got {plain.describe_type(cls)}"}
    inputs = [t.clone().requires_grad_(bool(r)) for t, r in zip((x, weight, bias), requires)]
    extra = _options(stride, padding)
    with env.learner():
        out = cls.apply(*inputs, *extra)
        node = getattr(out, "grad_fn", None)
        if type(out) is not torch.Tensor or node is None or getattr(node, "_forward_cls", None) is not cls:
            return {"out": out, "problem": "Conv2dBiasReLU.apply(...) did not return a single tensor "
                                           "recorded by autograd as Conv2dBiasReLU's output"}
        with torch.no_grad():  # as the engine runs a backward (create_graph=False)
            grads = node.apply(grad_out.clone())
    grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
    return {"out": out.detach(), "grads": grads, "args": 3 + len(extra)}


def forward(env, x, weight, bias, stride, padding):
    """conv_bias_relu's value, and whether it went through the learner's Conv2dBiasReLU (stride and
    padding left out of the call when they are at their default)."""
    fn, cls = env.entry("conv_bias_relu"), env.entry("Conv2dBiasReLU")
    inputs = [t.clone().requires_grad_(True) for t in (x, weight, bias)]
    options = dict(zip(("stride", "padding"), _options(stride, padding)))
    with env.learner():
        out = fn(*inputs, **options)
        node = getattr(out, "grad_fn", None) if type(out) is torch.Tensor else None
        ours = node is not None and getattr(node, "_forward_cls", None) is cls
    return {"out": out, "node": type(node).__name__ if node is not None else "None", "ours": ours}


def fold(env, conv_kwargs, conv_state, bn_kwargs, bn_state):
    """Build conv and bn (eval mode) from the parent's state, fold them, return the folded conv's
    parameters and attributes, and the state of conv and bn afterwards (they must be unchanged)."""
    conv, bn = nn.Conv2d(**conv_kwargs), nn.BatchNorm2d(**bn_kwargs)
    conv.load_state_dict(conv_state)
    bn.load_state_dict(bn_state)
    conv.eval()
    bn.eval()
    with env.learner():
        folded = env.entry("fold_batchnorm")(conv, bn)
    result = {"type": plain.describe_type(folded), "conv_after": dict(conv.state_dict()),
              "bn_after": dict(bn.state_dict())}
    if type(folded) is nn.Conv2d:
        result.update(weight=folded.weight.detach(),
                      bias=None if folded.bias is None else folded.bias.detach(),
                      attributes={k: getattr(folded, k) for k in CONV_ATTRIBUTES})
    return result
