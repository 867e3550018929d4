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

Model answer
------------
A CNN in PyTorch is an nn.Module: the layers with weights are created in __init__ so that they
are registered as parameters (model.parameters() finds them for the optimiser, .to(device) moves
them), and forward() wires them together. Here two conv blocks extract features: each 3x3 conv
with padding=1 keeps the spatial size, ReLU adds the non-linearity (without it the two convs and
the linear layer would collapse into one linear map), and a 2x2 max-pool halves the resolution,
giving some translation invariance and cutting compute by 4 for the next layer. The channels grow
(16 then 32) as the resolution falls. AdaptiveAvgPool2d(4) makes the feature map 4x4 whatever the
input size, so the classifier always sees 32*4*4 = 512 features; flatten keeps the batch
dimension. The last layer outputs logits: nn.CrossEntropyLoss applies log-softmax itself. It has
16*(C*9+1) + 32*(16*9+1) + num_classes*513 parameters, about 10k for MNIST. Training is the
usual loop: zero_grad, forward, loss, backward, step; call model.eval() for inference when the
model has Dropout or BatchNorm.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        # Layers with weights are attributes, so they are registered as parameters.
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.squeeze = nn.AdaptiveAvgPool2d(4)  # 4x4 whatever H and W: fc's input size is fixed
        self.fc = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))  # (N, 16, H/2, W/2)
        x = self.pool(F.relu(self.conv2(x)))  # (N, 32, H/4, W/4)
        x = torch.flatten(self.squeeze(x), 1)  # (N, 512), keep the batch dimension
        return self.fc(x)  # logits: CrossEntropyLoss applies the softmax
