# expected: failed
# options: speed
# failing: faster than nn.Conv2d on CPU
# message: allowed at most 0.6x
# Right structure and right outputs, but forward folds both convs into one dense kH x kW kernel
# and runs a standard convolution: exactly the cost the layer exists to avoid.
import torch
import torch.nn as nn
import torch.nn.functional as F


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, depth_multiplier=1):
        super().__init__()
        self.m = depth_multiplier
        self.args = dict(stride=stride, padding=padding, dilation=dilation)
        self.depthwise = nn.Conv2d(in_channels, in_channels * depth_multiplier, kernel_size,
                                   groups=in_channels, bias=bias, **self.args)
        self.pointwise = nn.Conv2d(in_channels * depth_multiplier, out_channels, 1, bias=bias)

    def forward(self, x):
        dw, pw = self.depthwise.weight, self.pointwise.weight[:, :, 0, 0]  # (C*m, 1, k, k), (O, C*m)
        c = x.shape[1]
        # dense[o, c] = sum_j pw[o, c*m + j] * dw[c*m + j]
        dense = torch.einsum("ocj,cjhw->ochw", pw.reshape(-1, c, self.m), dw.reshape(c, self.m, *dw.shape[-2:]))
        bias = None
        if self.pointwise.bias is not None:
            bias = self.pointwise.bias + pw @ self.depthwise.bias
        return F.conv2d(x, dense, bias, **self.args)
