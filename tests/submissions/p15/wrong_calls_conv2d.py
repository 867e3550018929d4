# expected: failed
# failing: stride 1, no padding; padding; stride; float16
# message: called a forbidden op
"""p15 corpus: F.conv2d(groups=C) instead of a kernel."""

import torch
import torch.nn.functional as F


def depthwise_conv2d(x, weight, bias=None, stride=1, padding=0):
    return F.conv2d(x, weight, bias, stride, padding, groups=x.shape[1])
