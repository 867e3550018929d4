# expected: failed
# failing: stride and padding; adjoint of conv2d
# message: forbidden op
# Hands the work to PyTorch's own transposed convolution.
import torch.nn.functional as F


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
