# expected: failed
# failing: trains within the time budget; held-out accuracy
# message: was still running
# options: time_scale=0.1
"""Ignores time_budget_s: computes for three times as long as allowed (CPU time, the clock the
grader counts). Graded (tests/test_corpus.py) with a time scale of 0.1 (a 1.2 s budget), so the
test takes seconds, not minutes."""
import time

import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    start = time.process_time()
    x = torch.randn(64, 64)
    while time.process_time() - start < 3 * time_budget_s:
        x = torch.tanh(x @ x)
    return model


def predict(model, images, device):
    return torch.zeros(len(images), dtype=torch.int64)
