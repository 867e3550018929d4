# expected: passed
# A correct p06 that differs from the reference: it branches on scaler.is_enabled() and, for a
# disabled scaler (bf16), does a plain backward/clip/step itself; the device type is taken from
# the model's parameters; train uses Adam at its default lr 1e-3 and weights each batch by its size.
import torch
from torch import nn


def autocast_dtype(device_type):
    if device_type == "cuda":
        return torch.float16
    return torch.bfloat16


def make_scaler(device_type, dtype):
    if dtype == torch.float16:
        return torch.amp.GradScaler(device_type)
    return torch.amp.GradScaler(device_type, enabled=False)


def train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype):
    device_type = next(model.parameters()).device.type
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype):
        loss = loss_fn(model(inputs), targets)
    if not scaler.is_enabled():
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0, foreach=True)
        optimizer.step()
        return loss.item()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0, foreach=True)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


def train(model, loader, epochs, device):
    device = torch.device(device)
    model.to(device)
    dtype = autocast_dtype(device.type)
    scaler = make_scaler(device.type, dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for _ in range(epochs):
        seen, total = 0, 0.0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            total += train_step(model, x, y, nn.CrossEntropyLoss(), optimizer, scaler, dtype) * x.shape[0]
            seen += x.shape[0]
        history.append(total / seen)
    return history
