# expected: failed
# failing: predict returns int64 labels
# message: expected (1000,)
"""predict returns one int64 row per image (N, 1) instead of a flat (N,) vector."""
import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    return model


def predict(model, images, device):
    with torch.no_grad():
        return model(images.float().unsqueeze(1) / 255).argmax(1, keepdim=True)
