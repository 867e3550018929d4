"""p09 - A convolutional image classifier.

Interview question 9: "Implement an image classifier based on convolution."

The data: 3×32×32 colour images of ten kinds of shapes and textures (disc, square, triangle,
ring, plus, hollow square, striped / checkered / dotted disc, target), each drawn at a random
position, size, rotation and colour on a noisy background. The grader generates fresh images
from its seed, so nobody has seen them before. Colour and position say nothing about the class.

build_model(in_channels, num_classes, image_size) -> nn.Module
    A fresh model for in_channels×image_size×image_size images (here 3, 10, 32).

fit(model, images, labels, device, time_budget_s) -> nn.Module or None
    images float32 (N, C, H, W) in [0, 1], labels int64 (N,) in 0..num_classes-1; train in place
    (returning the model is optional). N is 5000.
    The clock: the grader gives your code ONE budget of CPU time (20 s, times the run's --time-scale) for all it does:
    importing this file, build_model, fit and predict, over all threads, read by the grader
    from the kernel. time_budget_s is what is left of it after the import and build_model, less
    about 1.5 s kept for predict. Schedule by time.process_time() (this process's CPU time, all
    threads), not time.monotonic(): on a busy machine the wall clock runs ahead of the CPU time
    you get. The grader stops your code when it passes the budget plus a small grace (and after
    10x the budget in wall-clock time, for code that sleeps). Work done at import or in predict
    spends the same budget. Your code runs with one intra-op thread (torch.get_num_threads() == 1):
    more threads cost more CPU time for the same work.

predict(model, images, device) -> Tensor
    images float32 (M, C, H, W) -> int64 labels (M,).

Grading: held-out accuracy on 1000 fresh images >= 30% (chance is 10%). A linear model on the
pixels stays near chance (about 12%); a small CNN reaches 40-75% in the 20 s budget, depending
on how well it uses it (docs/benchmarks.md).

Example: predict(model, images[:2], "cpu") -> tensor([3, 7]) (int64, one label per image).

Follow-ups an interviewer may ask: why does a linear classifier fail here, when it does fine on
MNIST? What does global average pooling buy over flattening? Which augmentations preserve these
labels, and which would not? How would you scale this to ImageNet-sized images?
"""

import torch
import torch.nn as nn


def build_model(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    # TODO: conv blocks, global average pooling, a Linear head with num_classes outputs.
    raise NotImplementedError("p09: build_model is not implemented yet")


def fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str,
        time_budget_s: float):
    # TODO: mini-batch training with cross-entropy; stop before time_budget_s runs out.
    raise NotImplementedError("p09: fit is not implemented yet")


def predict(model: nn.Module, images: torch.Tensor, device: str) -> torch.Tensor:
    # TODO: eval mode, no_grad, argmax over the logits -> int64 labels.
    raise NotImplementedError("p09: predict is not implemented yet")
