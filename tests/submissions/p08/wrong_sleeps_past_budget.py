# expected: failed
# failing: trains within the time budget; held-out accuracy
# message: of wall-clock time
# options: time_scale=0.1
"""Waits instead of computing: sleeps twenty times its budget, which costs no CPU time, so only
the wall-clock outer stop (10x the CPU budget) can end it. Graded with a time scale of 0.1."""
import time

import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    time.sleep(20 * time_budget_s)
    return model


def predict(model, images, device):
    return torch.zeros(len(images), dtype=torch.int64)
