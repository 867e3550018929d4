# expected: passed
"""A plain CNN (no batch norm, no augmentation), trained by epochs with a step-decayed learning
rate and a guard on the CPU clock the stub names (time.process_time): it stops before an epoch
that would not fit in the budget, and mid-epoch if the budget runs out."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def train_model(model, images, labels, device, time_budget_s):
    start = time.process_time()
    x = images.float().div(255).unsqueeze(1).to(device)
    y = labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    decay = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.6)
    for epoch in range(8):
        elapsed = time.process_time() - start
        if epoch and elapsed * (epoch + 1) / epoch > 0.95 * time_budget_s:
            break
        for i in range(0, len(x), 32):
            if time.process_time() - start > 0.95 * time_budget_s:
                return model  # a slow machine: stop mid-epoch rather than overrun
            loss = F.cross_entropy(model(x[i:i + 32]), y[i:i + 32])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        decay.step()
    return model


def predict(model, images, device):
    model.eval()
    with torch.no_grad():
        return model(images.float().div(255).unsqueeze(1).to(device)).argmax(dim=1).cpu()
