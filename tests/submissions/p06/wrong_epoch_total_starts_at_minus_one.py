# expected: failed
# failing: loss falls with train()
# message: return the mean of the batch losses
# Every epoch's running total starts at -1 instead of 0, so each returned epoch mean is off by
# -1/256 (the model itself trains correctly).
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
    scaler.scale(loss).backward()  # backward outside autocast: it reuses the forward's dtypes
    scaler.unscale_(optimizer)  # true gradients from here on, so the clip sees the real norm
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)  # skipped if any gradient is inf/nan
    scaler.update()  # halve the scale after an overflow, grow it after a run of good steps
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
        total, count = -1.0, 0
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            total += train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) * len(targets)
            count += len(targets)
        history.append(total / count)
    return history
