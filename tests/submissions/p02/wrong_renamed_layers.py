# expected: failed
# failing: parameter names and shapes
# message: conv1.weight is missing
# Keeps the convs in an nn.Sequential without exposing conv1/conv2, so the names differ.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1))
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.features[0](x)))
        x = self.pool(F.relu(self.features[1](x)))
        x = torch.flatten(self.gap(x), 1)
        return self.fc(x)
