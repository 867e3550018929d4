# expected: failed
# failing: held-out accuracy
# message: predictions are class 1
"""Predicts the same digit for every image: well formed labels, 10% accuracy."""
import torch
import torch.nn as nn


def build_model():
    return nn.Linear(1, 1)


def train_model(model, images, labels, device, time_budget_s):
    return model


def predict(model, images, device):
    return torch.ones(len(images), dtype=torch.int64)
