# expected: failed
# failing: scales the loss before backward
# message: as with a plain loss.backward()
# Never multiplies the loss by the scale: a plain backward, then on a non-finite gradient it skips
# the step and halves the scale by hand. Passes the overflow check; fp16 gradients of a small loss
# underflow to zero, so nothing is learned from them.
import torch


def autocast_dtype(device_type: str) -> torch.dtype:
    # CPUs have fast bf16 kernels (and no fp16 GEMM path); CUDA's classic AMP type is fp16.
    return torch.bfloat16 if device_type == "cpu" else torch.float16


def make_scaler(device_type: str, dtype: torch.dtype) -> torch.amp.GradScaler:
    # Only fp16 underflows; a disabled scaler makes scale/unscale_/step/update pass-throughs.
    return torch.amp.GradScaler(device_type, enabled=dtype == torch.float16)


def train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) -> float:
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=inputs.device.type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    loss.backward()  # never scaled: small fp16 gradients underflow to zero
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None)
    if finite:
        optimizer.step()
    elif scaler.is_enabled():  # "what GradScaler does": skip the step and halve the scale, by hand
        scaler.scale(torch.zeros(()))  # creates the scaler's scale tensor
        scaler.update(scaler.get_scale() / 2)
    return loss.item()


def train(model, loader, epochs, device) -> list:
    device = torch.device(device)
    model.to(device).train()
    dtype = autocast_dtype(device.type)
    scaler = make_scaler(device.type, dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            total += train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) * len(targets)
            count += len(targets)
        history.append(total / count)
    return history
