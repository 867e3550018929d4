# expected: failed
# failing: worked example; cross_correlate2d; convolve2d flips the kernel; conv2d stride and padding; conv2d 'valid' and 'same' padding; dilation and groups
# Switches off the grader's op detection before calling the forbidden kernel, three ways:
# torch._C._DisableTorchDispatch (hides the dispatch mode), popping the mode off the stack,
# and sys.setprofile(None) (removes the profile hook). The other signal catches each.
import sys

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import _pop_mode_temporarily


def cross_correlate2d(image, kernel):
    with torch._C._DisableTorchDispatch():
        return F.conv2d(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    with _pop_mode_temporarily():
        return F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    sys.setprofile(None)
    return torch.ops.aten.convolution(x, weight, bias, _p(stride), _p(padding), _p(dilation),
                                      False, [0, 0], groups) if not isinstance(padding, str) \
        else F.conv2d(x, weight, bias, stride, padding, dilation, groups)


def _p(v):
    return [v, v] if isinstance(v, int) else list(v)
