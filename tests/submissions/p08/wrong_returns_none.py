# expected: failed
# failing: trains within the time budget
# message: returned None
"""train_model trains but forgets to return the model."""
import torch.nn as nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def train_model(model, images, labels, device, time_budget_s):
    model.train()


def predict(model, images, device):
    return model(images.float().unsqueeze(1) / 255).argmax(1)
