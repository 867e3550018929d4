"""p08 - A CNN for MNIST digits.

Interview question 8: "Implement a simple CNN for MNIST handwritten digit recognition."

Write three functions; the grader calls them in this order, in your own process:

build_model() -> nn.Module
    A fresh, untrained model for 1×28×28 digits and 10 classes.

train_model(model, images, labels, device, time_budget_s) -> nn.Module
    images uint8 (N, 28, 28) with values 0..255, labels int64 (N,) in 0..9, device "cpu" or
    "cuda". Train from scratch and return the trained model. N is 4000 on the shipped subset
    and 60000 on full MNIST.
    The clock: the grader gives your code ONE budget of CPU time (12 s on the shipped subset, 40 s on full MNIST, times the run's
    --time-scale) for all it does:
    importing this file, build_model, train_model and predict, over all threads, read by the grader
    from the kernel. time_budget_s is what is left of it after the import and build_model, less
    about 1.5 s kept for predict. Schedule by time.process_time() (this process's CPU time, all
    threads), not time.monotonic(): on a busy machine the wall clock runs ahead of the CPU time
    you get. The grader stops your code when it passes the budget plus a small grace (and after
    10x the budget in wall-clock time, for code that sleeps). Work done at import or in predict
    spends the same budget. Your code runs with one intra-op thread (torch.get_num_threads() == 1):
    more threads cost more CPU time for the same work.

predict(model, images, device) -> Tensor
    images uint8 (M, 28, 28) never seen in training -> int64 labels (M,) in 0..9.

Grading: the held-out accuracy, computed by the grader from your labels, must be >= 93% on the
shipped subset (1000 of its 5000 digits held out, drawn at random for each run) or >= 98.5% on the
official 10000 test digits when full MNIST is installed (`grader data download mnist`).

Example: images[0] is a 28×28 uint8 digit; predict(model, images[:3], "cpu") might return
tensor([7, 2, 1]) (dtype int64, one label per image).

Follow-ups an interviewer may ask: why convolutions rather than a fully connected net? What do
pooling and batch norm do here? How would you make training robust to shifted or slanted digits?
How do you choose a learning-rate schedule when training time is fixed?
"""

import torch
import torch.nn as nn


def build_model() -> nn.Module:
    # TODO: conv blocks (Conv2d -> ReLU -> MaxPool2d) and a Linear classifier for 10 digits.
    raise NotImplementedError("p08: build_model is not implemented yet")


def train_model(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str,
                time_budget_s: float) -> nn.Module:
    # TODO: mini-batch training with cross-entropy; stop before time_budget_s runs out.
    raise NotImplementedError("p08: train_model is not implemented yet")


def predict(model: nn.Module, images: torch.Tensor, device: str) -> torch.Tensor:
    # TODO: eval mode, no_grad, argmax over the logits -> int64 labels.
    raise NotImplementedError("p08: predict is not implemented yet")
