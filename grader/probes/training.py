"""Worker side of the training problems (p08, p09): build, train and predict, gathering data only.

The parent (``grader.checks.training``) calls these in order, reads the worker's CPU time from
``/proc`` between and during the calls, and decides every verdict; the trained model stays here,
in ``env.state``, between the calls.
"""

from __future__ import annotations

import torch


def build_model(env, build_args):
    """``build_model(*build_args)``; keeps the model. Returns {"is_module": bool, "type": name}.

    One intra-op thread from here on: the budget is CPU time over all threads, and a second
    thread on a small conv net costs more CPU seconds than it saves (barrier waits, spinning), so
    one thread gives the learner the most work per budget second whatever the machine's load.
    A learner may change it; that cannot buy more CPU time, only more wall time.
    """
    torch.set_num_threads(1)
    build = env.entry("build_model")
    with env.learner():
        model = build(*build_args)
    env.state["model"] = model
    return {"is_module": isinstance(model, torch.nn.Module), "type": type(model).__name__}


def train(env, train_entry, images, labels, device, budget_s):
    """``train_entry(model, images, labels, device, budget_s)`` on the model ``build_model`` kept.
    Returns {"returned": type name or "None", "is_module": whether the kept model is a Module}."""
    fn = env.entry(train_entry)
    model = env.state["model"]
    with env.learner():
        returned = fn(model, images, labels, device, budget_s)
    kept = returned if returned is not None else model
    env.state["model"] = kept
    return {"returned": "None" if returned is None else type(returned).__name__,
            "is_module": isinstance(kept, torch.nn.Module)}


def predict(env, images, device):
    """The learner's ``predict(trained model, images, device)``, returned as is (checked in the
    parent)."""
    fn = env.entry("predict")
    with env.learner():
        return fn(env.state["model"], images, device)
