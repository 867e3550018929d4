# expected: passed
# A correct p06 that differs from the reference: torch.amp.autocast, the backward inside the
# autocast block, hand-written clipping (total norm, then scale by min(1, 1/norm)), gradients zeroed
# by hand (p.grad = None) at the start, an SGD optimizer and an unweighted mean of batch losses.
import torch

_AMP_DTYPES = {"cpu": torch.bfloat16, "cuda": torch.float16}


def autocast_dtype(device_type):
    return _AMP_DTYPES[device_type]


def make_scaler(device_type, dtype):
    scaler = torch.amp.GradScaler(device=device_type, init_scale=2.0 ** 16, enabled=(dtype is torch.float16))
    return scaler


def _clip_(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(factor)


def train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype):
    for p in model.parameters():
        p.grad = None
    with torch.amp.autocast(inputs.device.type, dtype=dtype):
        output = model(inputs)
        loss = loss_fn(output, targets)
        scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    _clip_(list(model.parameters()), 1.0)
    scaler.step(optimizer)
    scaler.update()
    return float(loss.detach())


def train(model, loader, epochs, device):
    kind = torch.device(device).type
    model = model.to(device)
    dtype = autocast_dtype(kind)
    scaler = make_scaler(kind, dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = torch.nn.functional.cross_entropy
    means = []
    for epoch in range(epochs):
        losses = [train_step(model, x.to(device), y.to(device), criterion, optimizer, scaler, dtype)
                  for x, y in loader]
        means.append(sum(losses) / len(losses))
    return means
