"""p06: the checks that observe AMP, on plain numbers and in this process (the corpus,
tests/submissions/p06/, grades whole submissions: stale gradients, an unscaled loss, epoch means
off by a constant, a diverging or non-learning train(), PyTorch's recipe clipping at 0.1)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from grader.checks.verdict import Fail
from grader.problems import p06_mixed_precision as p06
from grader.probes import p06_mixed_precision as probes


def _case(seed: int = 3, n: int = 16):
    gen = torch.Generator().manual_seed(seed)
    state = dict(p06._seeded_net(seed).state_dict())
    inputs = torch.randn(n, 3, 8, 8, generator=gen) * 2
    targets = torch.randint(0, 4, (n,), generator=gen)
    return state, inputs, targets


def _learner_step(state, inputs, targets, dtype_name, factor, step, lr=probes.LR, init_scale=probes.INIT_SCALE):
    """Run ``step`` (a train_step written here) the way the probe does, in this process."""
    model, optimizer, scaler, dtype, loss_fn = probes.setup(state, dtype_name, factor, lr, init_scale)
    step(model, inputs.clone(), targets.clone(), loss_fn, optimizer, scaler, dtype)
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


def _clip_at(max_norm, before_unscale=False):
    def step(model, inputs, targets, loss_fn, optimizer, scaler, dtype):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=dtype):
            loss = loss_fn(model(inputs), targets)
        scaler.scale(loss).backward()
        if before_unscale:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.unscale_(optimizer)
        if not before_unscale:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        return loss.item()
    return step


def test_epoch_means_on_plain_numbers():
    steps = [[e, 1.0 - 0.1 * e + 0.01 * b] for e in range(3) for b in range(8)]
    means = [sum(v for e2, v in steps if e2 == e) / 8 for e in range(3)]
    assert p06.epoch_mean_problem(means, steps, 3, 8) == ""
    # a running total that starts at -1, over 256 samples: every mean is off by -1/256
    off = [m - 1 / 256 for m in means]
    assert "return the mean of the batch losses" in p06.epoch_mean_problem(off, steps, 3, 8)
    assert "off by -0.0039" in p06.epoch_mean_problem(off, steps, 3, 8)
    assert "never called train_step()" in p06.epoch_mean_problem(means, [], 3, 8)
    assert "ran 7 times for the 8 batches" in p06.epoch_mean_problem(means, steps[1:], 3, 8)


def test_unscaled_fp16_gradients_underflow_in_the_case_the_check_uses():
    """The premise of "scales the loss before backward": with the loss times 2^-22, a plain
    backward under fp16 autocast leaves every gradient zero; the scaled backward none."""
    state, inputs, targets = _case()
    for scaled in (False, True):
        model, _, scaler, dtype, loss_fn = probes.setup(state, "fp16", p06.UNDERFLOW_FACTOR, init_scale=p06.UNDERFLOW_SCALE)
        with torch.autocast("cpu", dtype=dtype):
            loss = loss_fn(model(inputs), targets)
        (scaler.scale(loss) if scaled else loss).backward()
        zero = [name for name, p in model.named_parameters() if not p.grad.any()]
        assert zero == ([] if scaled else [name for name, _ in model.named_parameters()])


def test_diagnosis_names_clipping_before_unscale():
    state, inputs, targets = _case()
    factor = 6.0 / p06._grad_norm(state, inputs, targets)
    case = (state, inputs, targets, "fp16", factor, 1)
    _, ref_state = p06._reference(*case)
    got = _learner_step(state, inputs, targets, "fp16", factor, _clip_at(1.0, before_unscale=True))
    with pytest.raises(Fail, match="still multiplied by the loss scale"):
        p06._compare_update(state, got, ref_state, "where", case)


def test_diagnosis_of_pytorchs_recipe_clipping_at_0_1_names_the_norm_not_the_scale():
    state, inputs, targets = _case()
    factor = 6.0 / p06._grad_norm(state, inputs, targets)
    case = (state, inputs, targets, "fp16", factor, 1)
    _, ref_state = p06._reference(*case)
    got = _learner_step(state, inputs, targets, "fp16", factor, _clip_at(0.1))
    with pytest.raises(Fail) as failed:
        p06._compare_update(state, got, ref_state, "where", case)
    message = failed.value.message
    assert "points the same way as the reference's but is 0.1x its length" in message
    assert "clip to about 0.1" in message
    assert "1/scale" not in message and "multiplied by the loss scale" not in message  # no blame on the scale


def test_a_correct_step_matches():
    state, inputs, targets = _case()
    factor = 6.0 / p06._grad_norm(state, inputs, targets)
    case = (state, inputs, targets, "fp16", factor, 1)
    _, ref_state = p06._reference(*case)
    got = _learner_step(state, inputs, targets, "fp16", factor, _clip_at(1.0))
    assert p06._compare_update(state, got, ref_state, "where", case) <= p06.UPDATE_RTOL
    assert math.isclose(p06.UNDERFLOW_FACTOR * p06.UNDERFLOW_SCALE, 0.25)


def test_the_replayed_unscaled_step_learns_nothing_from_the_underflow_case():
    """The parent's replay of a plain backward (variant "unscaled", used to name the mistake)
    runs without ever calling the scaler, and moves no parameter in the underflow case, while the
    reference moves every one."""
    state, inputs, targets = _case()
    case = (state, inputs, targets, "fp16", p06.UNDERFLOW_FACTOR, 1)
    lr = probes.LR / p06.UNDERFLOW_FACTOR
    _, unscaled = p06._reference(*case, variant="unscaled", lr=lr, init_scale=p06.UNDERFLOW_SCALE)
    _, ref_state = p06._reference(*case, lr=lr, init_scale=p06.UNDERFLOW_SCALE)
    assert p06._delta(state, unscaled).norm() == 0
    assert all(not torch.equal(ref_state[k], state[k]) for k in state)
