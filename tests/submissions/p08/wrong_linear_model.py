# expected: failed
# failing: held-out accuracy
# message: held-out accuracy
"""Logistic regression on the raw pixels (no convolution), trained with Adam for its whole CPU
budget: a fair linear baseline, which the threshold must keep well below."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    start = time.process_time()
    x, y = images.float().div(255), labels
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    while time.process_time() - start < 0.9 * time_budget_s:
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            batch = order[i:i + 64]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if time.process_time() - start >= 0.9 * time_budget_s:
                break
    return model


def predict(model, images, device):
    with torch.no_grad():
        return model(images.float().div(255)).argmax(1)
