# expected: failed
# failing: predict returns int64 labels
# message: outside 0..9
"""Labels 1..10 instead of 0..9 (an off-by-one in the class index). The "model" cycles through
the classes, so label 10 always occurs whatever the seed or the weights' random start."""
import torch
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    return model


def predict(model, images, device):
    with torch.no_grad():
        scores = model(images.float().unsqueeze(1) / 255)
        return (scores.argmax(1) * 0 + torch.arange(len(images))) % 10 + 1
