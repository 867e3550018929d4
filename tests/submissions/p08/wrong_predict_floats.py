# expected: failed
# failing: predict returns int64 labels; held-out accuracy
# message: expected torch.int64
"""predict returns the argmax as float32 instead of int64 labels."""
import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    return model


def predict(model, images, device):
    with torch.no_grad():
        return model(images.float().unsqueeze(1) / 255).argmax(1).float()
