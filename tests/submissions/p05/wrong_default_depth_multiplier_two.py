# expected: failed
# failing: structure; parameter count; forward matches the two convs
# A wrong default: depth_multiplier=2 (issue 10).
import torch.nn as nn


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, depth_multiplier=2):
        super().__init__()
        mid = in_channels * depth_multiplier
        # groups=in_channels: each input channel is filtered on its own (m filters per channel).
        self.depthwise = nn.Conv2d(in_channels, mid, kernel_size, stride=stride, padding=padding,
                                   dilation=dilation, groups=in_channels, bias=bias)
        # 1x1: mixes channels, never looks at neighbours.
        self.pointwise = nn.Conv2d(mid, out_channels, 1, bias=bias)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))
