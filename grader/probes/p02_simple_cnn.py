"""Worker-side probes of p02 (a simple CNN): build the learner's model, load the parent's weights by
name, run or train it, and hand back plain tensors. Untrusted once the learner's module is
imported: these only gather data; grader.problems.p02_simple_cnn judges it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.probes.threads import one_thread


def _build(env, in_channels, num_classes):
    cls = env.entry("SimpleCNN")
    with env.learner():
        if in_channels is None:
            return cls()
        return cls(in_channels=in_channels, num_classes=num_classes)


def _load(model, state: dict) -> str | None:
    """Copy the parent's weights in by name, so a model built from nn.Sequential blocks that
    exposes conv1/conv2/fc as attributes loads just like the reference. Returns why it could
    not, as data for the parent."""
    if not isinstance(model, torch.nn.Module):
        return f"SimpleCNN(...) is a {type(model).__qualname__}, not a torch.nn.Module"
    params = dict(model.named_parameters(remove_duplicate=False))
    for name, value in state.items():
        if name not in params:
            return f"the model has no parameter {name}"
        if params[name].shape != value.shape:
            return f"{name} has shape {tuple(params[name].shape)}, expected {tuple(value.shape)}"
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)
    return None


def params(env, in_channels, num_classes):
    model = _build(env, in_channels, num_classes)
    if not isinstance(model, torch.nn.Module):
        return {"not_module": type(model).__qualname__}
    groups: dict[int, int] = {}
    params = []
    for name, p in model.named_parameters(remove_duplicate=False):
        params.append([name, [int(s) for s in p.shape], groups.setdefault(id(p), len(groups))])
    return {"params": params}


def forward(env, in_channels, num_classes, state, x):
    with one_thread():
        model = _build(env, in_channels, num_classes)
        problem = _load(model, state)
        if problem:
            return {"load_error": problem}
        with env.learner(), torch.no_grad():
            model.eval()
            return {"out": model(x)}


def fit(env, in_channels, num_classes, state, x, y, steps, lr):
    """Train the learner's model from the given weights; return the gradient norms after the
    first backward pass and the weights after the last step."""
    with one_thread():
        model = _build(env, in_channels, num_classes)
        problem = _load(model, state)
        if problem:
            return {"load_error": problem}
        with env.learner():
            model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        grads = {}
        for step in range(steps):
            optimizer.zero_grad()
            with env.learner():
                loss = F.cross_entropy(model(x), y)
                loss.backward()
            if step == 0:
                for name in state:
                    grad = model.get_parameter(name).grad
                    grads[name] = None if grad is None else float(grad.double().norm())
            optimizer.step()
        trained = {name: model.get_parameter(name).detach().clone() for name in state}
        return {"grads": grads, "trained": trained}
