# expected: failed
# failing: held-out accuracy
# message: held-out accuracy
"""A linear classifier on the raw pixels (logistic regression): the shape moves, turns and
changes colour, so no fixed pixel template works and it stays near chance."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model(in_channels, num_classes, image_size):
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size * image_size, num_classes))


def fit(model, images, labels, device, time_budget_s):
    start = time.monotonic()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    while time.monotonic() - start < min(0.2 * time_budget_s, 6.0):
        for i in range(0, len(images), 100):
            loss = F.cross_entropy(model(images[i:i + 100]), labels[i:i + 100])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def predict(model, images, device):
    with torch.no_grad():
        return model(images).argmax(1)
