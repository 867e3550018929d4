# expected: failed
# failing: stride and padding; dilation and groups
# message: forbidden op
# Hands the work to PyTorch's convolution through torch.conv2d.
import torch


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return torch.conv2d(x, weight, bias, stride, padding, dilation, groups)
