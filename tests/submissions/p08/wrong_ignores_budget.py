# expected: failed
# failing: trains within the time budget; held-out accuracy
# message: was still running
# options: time_scale=0.1
"""Ignores time_budget_s: "trains" three times as long as allowed. Graded (tests/test_corpus.py) with a time scale of
0.1 (a 6 s budget), so the test takes seconds, not minutes."""
import time

import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    time.sleep(3 * time_budget_s)
    return model


def predict(model, images, device):
    return torch.zeros(len(images), dtype=torch.int64)
