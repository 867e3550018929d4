# expected: failed
# failing: structure; forward matches the two convs; parameter count
# message: pointwise
# No pointwise conv: the depthwise conv goes straight to out_channels (a grouped conv only).
import torch.nn as nn


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, depth_multiplier=1):
        super().__init__()
        self.out_channels = out_channels
        mid = out_channels * in_channels
        # groups=in_channels: each input channel is filtered on its own (m filters per channel).
        self.depthwise = nn.Conv2d(in_channels, mid, kernel_size, stride=stride, padding=padding,
                                   dilation=dilation, groups=in_channels, bias=bias)

    def forward(self, x):
        return self.depthwise(x)[:, :self.out_channels]
