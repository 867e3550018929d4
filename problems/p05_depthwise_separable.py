"""p05 - A depthwise-separable convolution layer.

Interview question 5: "How do you implement a depthwise-separable convolution layer in PyTorch?"

Write class DepthwiseSeparableConv2d(nn.Module):

    __init__(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
             bias=True, depth_multiplier=1)
    self.depthwise: nn.Conv2d(in_channels -> in_channels * depth_multiplier, kernel_size,
                    stride, padding, dilation, groups=in_channels, bias=bias)
    self.pointwise: nn.Conv2d(in_channels * depth_multiplier -> out_channels, 1x1, bias=bias)
    forward(x): x (N, C_in, H, W) -> (N, C_out, H_out, W_out),
                H_out = floor((H + 2p - d*(kH - 1) - 1) / s) + 1   (the pointwise conv keeps it)

    Parameters: C_in*m*kH*kW + C_in*m*C_out, plus C_in*m + C_out biases when bias=True.

Constraints: use those two submodule names (the grader reads their settings and weights); any
nn.Conv2d settings that give this layer are fine. bias=False means neither conv has a bias.
Speed is checked too: on a 256->256-channel 3x3 layer the forward must take at most 0.6x the time
of a standard nn.Conv2d with the same channels and kernel (timed by the grader; on a GPU, its
own threshold).

Example (by hand): in_channels=2, out_channels=4, kernel_size=3, depth_multiplier=1, bias=True:
depthwise has 2*9 + 2 = 20 parameters, pointwise 2*4 + 4 = 12, 32 in all; a standard
nn.Conv2d(2, 4, 3) has 2*4*9 + 4 = 76. For 128 -> 128 channels it is 17,792 against 147,584.

Follow-ups: why is it cheaper (the cost ratio is 1/C_out + 1/k^2)? Why is it often not as much
faster as the MAC count says (depthwise convs are memory-bound)? Where is it used (MobileNet,
Xception, EfficientNet), and what does depth_multiplier change?
"""

import torch.nn as nn


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, depth_multiplier=1):
        super().__init__()
        # TODO: self.depthwise (groups=in_channels) and self.pointwise (1x1).
        raise NotImplementedError("p05: DepthwiseSeparableConv2d is not implemented yet")

    def forward(self, x):
        # TODO: depthwise, then pointwise.
        raise NotImplementedError("p05: DepthwiseSeparableConv2d.forward is not implemented yet")
