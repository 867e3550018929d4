# expected: passed
# options: speed
# A correct p05 that differs from the reference: the submodules hold the weights, but forward
# calls F.conv2d itself, and the layer keeps its settings as attributes.
import torch.nn as nn
import torch.nn.functional as F


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, depth_multiplier=1):
        super().__init__()
        self.settings = dict(stride=stride, padding=padding, dilation=dilation, groups=in_channels)
        self.depthwise = nn.Conv2d(in_channels, in_channels * depth_multiplier, kernel_size,
                                   groups=in_channels, bias=bias, stride=stride, padding=padding,
                                   dilation=dilation)
        self.pointwise = nn.Conv2d(in_channels * depth_multiplier, out_channels, kernel_size=(1, 1),
                                   bias=bias)

    def forward(self, x):
        y = F.conv2d(x, self.depthwise.weight, self.depthwise.bias, **self.settings)
        return F.conv2d(y, self.pointwise.weight, self.pointwise.bias)
