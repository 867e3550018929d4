"""p02 - A simple CNN.

Interview question 2: "How do you implement a simple CNN in PyTorch?"

Build this network as an nn.Module, with these attribute names (the grader loads weights by name):

class SimpleCNN(nn.Module), __init__(in_channels=1, num_classes=10)
    x      (N, in_channels, H, W)                            any H, W >= 4
    conv1  nn.Conv2d(in_channels, 16, 3, padding=1) -> ReLU -> MaxPool 2   (N, 16, H//2, W//2)
    conv2  nn.Conv2d(16, 32, 3, padding=1)          -> ReLU -> MaxPool 2   (N, 32, H//4, W//4)
    AdaptiveAvgPool2d(4)                                                    (N, 32, 4, 4)
    flatten (channel-major, as torch.flatten(x, 1))                         (N, 512)
    fc     nn.Linear(512, num_classes)                                      (N, num_classes)
    Parameters: conv1.weight (16, in_channels, 3, 3), conv1.bias (16,), conv2.weight
    (32, 16, 3, 3), conv2.bias (32,), fc.weight (num_classes, 512), fc.bias (num_classes,),
    and no others. forward returns logits (no softmax).

Constraints: use any torch.nn / torch.nn.functional you like; keep every step differentiable
(the grader trains your model for a few steps and checks that gradients reach every parameter).

Example (work it by hand): a 28x28 MNIST digit -> conv1 keeps 28x28 (padding 1) -> pool 14x14 ->
conv2 14x14 -> pool 7x7 -> adaptive pool 4x4 -> 32*4*4 = 512 features -> 10 logits.
A 5x13 input: 5x13 -> 2x6 -> 1x3 -> 4x4 (the adaptive pool also upsamples) -> 512 -> logits.

Follow-ups an interviewer may ask: how many parameters does this model have? Why padding=1?
What does AdaptiveAvgPool2d buy over a fixed-size Flatten? Where would BatchNorm and Dropout go,
and what changes between model.train() and model.eval()?
"""

import torch
import torch.nn as nn


class SimpleCNN(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        # TODO: create conv1, conv2, the pooling layers and fc.
        raise NotImplementedError("p02: SimpleCNN.__init__ is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO: conv -> ReLU -> pool, twice; adaptive pool; flatten; fc.
        raise NotImplementedError("p02: SimpleCNN.forward is not implemented yet")
