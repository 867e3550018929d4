# expected: failed
# failing: trains within the time budget; predict returns int64 labels; held-out accuracy
# message: was still running
# options: time_scale=0.2
"""A CNN trained for a fixed 1000 epochs whatever the budget. Graded with a time scale of 0.2
(a 12 s budget) by tests/test_corpus.py."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model(in_channels, num_classes, image_size):
    return nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(16, num_classes))


def fit(model, images, labels, device, time_budget_s):
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(1000):
        for i in range(0, len(images), 64):
            loss = F.cross_entropy(model(images[i:i + 64]), labels[i:i + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def predict(model, images, device):
    with torch.no_grad():
        return model(images).argmax(1)
