# expected: failed
# failing: predict returns int64 labels; held-out accuracy
# message: predict() was still running
# options: time_scale=0.25
"""Red-team route 9: train_model returns at once and predict() trains, for much longer than the
budget, before it predicts. One CPU budget covers import, build_model, train_model and predict,
so the grader stops predict. Graded with a time scale of 0.25 (a 3 s budget)."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

_DATA = {}


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    _DATA["x"], _DATA["y"] = images.float().div(255), labels
    return model


def predict(model, images, device):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.process_time()
    while time.process_time() - start < 30.0:  # ten times the budget
        for i in range(0, len(_DATA["y"]), 100):
            loss = F.cross_entropy(model(_DATA["x"][i:i + 100]), _DATA["y"][i:i + 100])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return model(images.float().div(255)).argmax(1)
