"""p06 - Mixed-precision training.

Interview question 6: "What is mixed-precision training, and how do you implement it?"

Write the standard PyTorch AMP recipe (torch.autocast + torch.amp.GradScaler):

autocast_dtype(device_type) -> torch.dtype
    the 16-bit type to autocast to: torch.bfloat16 for "cpu", torch.float16 for "cuda".
make_scaler(device_type, dtype) -> torch.amp.GradScaler
    a GradScaler for that device, enabled only when dtype is torch.float16.
train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) -> float
    one step, from zeroed gradients (clear them first: the grader calls train_step on its own);
    forward and loss under torch.autocast(device_type=inputs.device.type, dtype=dtype); scaled
    backward; unscale; clip the gradient norm to 1.0; optimizer step through the scaler;
    scaler update. Returns the (unscaled) loss as a Python float.
train(model, loader, epochs, device) -> list[float]
    train a classifier (logits (N, classes), int64 labels: use cross-entropy) for `epochs` epochs
    over `loader` (batches (inputs (N, C, H, W) float32, labels (N,))), calling train_step once per
    batch; device is a torch.device. Returns the mean training loss of each epoch: a list of
    `epochs` floats, each the mean of the losses train_step returned in that epoch. Pick the
    optimizer and learning rate yourself (the usual defaults work: SGD lr 0.01 momentum 0.9,
    Adam/AdamW lr 1e-3). The grader stops train() after 20 s of CPU time (time.process_time(),
    all threads; it needs well under a second).

Constraints: the parameters stay float32 (never model.half()); train_step must work with a
disabled scaler too (bf16), and must skip the step when a gradient is inf/nan (fp16 overflow).

Example: autocast_dtype("cpu") is torch.bfloat16; make_scaler("cpu", torch.bfloat16).is_enabled()
is False; under autocast a Conv2d's output dtype is the autocast dtype while its weight stays fp32.

Follow-ups: why does fp16 need loss scaling and bf16 not? Why must you unscale before clipping?
Which ops does autocast keep in fp32, and why? Where does the speed-up come from on a GPU?

Model answer
------------
Mixed precision runs the expensive, error-tolerant part of training, the forward and backward
convolutions and matmuls, in a 16-bit type, and keeps everything that accumulates small changes
in fp32: the master weights, the optimizer state, reductions such as the loss and softmax. You get
tensor-core throughput and half the activation memory and bandwidth, with fp32 accuracy.
torch.autocast does the casting per op (convs and matmuls to 16 bits, numerically risky ops kept
in fp32), so the model itself stays fp32. fp16 has only 5 exponent bits: gradients below about
6e-8 flush to zero, so we multiply the loss by a large scale before backward, which shifts the
gradients into range, and divide it out before the optimizer sees them. The GradScaler does that
dynamically: if any unscaled gradient is inf/nan the step is skipped and the scale halved; after
a run of good steps it doubles. bf16 has fp32's exponent range, so it needs no scaler (a disabled
scaler turns every call into a no-op, which keeps one code path). Anything that reads gradient
magnitudes, such as clipping, must run after scaler.unscale_(optimizer); otherwise you clip the
scaled gradients and the update shrinks by the scale. On a GPU the gain is typically 2-3x per
step on conv nets (NVIDIA reports 2.6x for ResNet-50 on A100 over TF32); on CPUs bf16 autocast
often does not pay, and you should measure before assuming it does.
"""

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
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
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
