# expected: failed
# failing: predict returns int64 labels; held-out accuracy
# message: expected torch.int64
"""predict returns softmax probabilities (N, 10) instead of one int64 label per image."""
import torch
import torch.nn as nn


def build_model(in_channels, num_classes, image_size):
    return nn.Sequential(nn.Conv2d(in_channels, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, num_classes))


def fit(model, images, labels, device, time_budget_s):
    pass


def predict(model, images, device):
    with torch.no_grad():
        return model(images).softmax(1)
