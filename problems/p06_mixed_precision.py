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
"""

import torch


def autocast_dtype(device_type: str) -> torch.dtype:
    # TODO: bf16 on CPU, fp16 on CUDA.
    raise NotImplementedError("p06: autocast_dtype is not implemented yet")


def make_scaler(device_type: str, dtype: torch.dtype) -> torch.amp.GradScaler:
    # TODO: a GradScaler that is enabled only for fp16.
    raise NotImplementedError("p06: make_scaler is not implemented yet")


def train_step(model, inputs, targets, loss_fn, optimizer, scaler, dtype) -> float:
    # TODO: autocast forward, scaled backward, unscale, clip to 1.0, step, update.
    raise NotImplementedError("p06: train_step is not implemented yet")


def train(model, loader, epochs, device) -> list:
    # TODO: an optimizer, a scaler, and train_step over every batch of every epoch.
    raise NotImplementedError("p06: train is not implemented yet")
