# expected: passed
"""Different from the reference: no input normalisation, global *max* pooling, Adam with a
learning rate that decays linearly with the CPU clock (time.process_time), no augmentation; fit
returns nothing."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model(in_channels, num_classes, image_size):
    layers, c_in = [], in_channels
    for c_out in (32, 48, 64):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))


def fit(model, images, labels, device, time_budget_s):
    start, stop = time.process_time(), 0.9 * time_budget_s
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    while True:
        order = torch.randperm(len(images))
        for i in range(0, len(images), 64):
            left = 1 - (time.process_time() - start) / stop
            if left <= 0:
                return
            for group in optimizer.param_groups:
                group["lr"] = 2e-3 * left
            batch = order[i:i + 64]
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images).argmax(1)
