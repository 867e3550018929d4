# expected: failed
# failing: cross_correlate2d; conv2d stride and padding; dilation and groups
# message: slow_conv_dilated2d
# Ban bypass (issue 13, route 1): the leaf convolution kernel reached through
# OpOverload.redispatch with a CPU-only dispatch key set. That skips the Python key, so the
# grader's dispatch mode never sees it, and the profile hook sees only OpOverload.redispatch.
import torch
import torch.nn.functional as F
from torch._C import DispatchKey, DispatchKeySet

_CPU = DispatchKeySet(DispatchKey.CPU)
_dilated = torch.ops.aten.slow_conv_dilated2d.default


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (dh, dw) = _pair(dilation)
    kh, kw = weight.shape[2:]
    if padding == "valid":
        padding = 0
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        x = F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
        padding = 0
    cg, og = x.shape[1] // groups, weight.shape[0] // groups
    outs = [_dilated.redispatch(_CPU, x[:, g * cg:(g + 1) * cg].contiguous(),
                                weight[g * og:(g + 1) * og].contiguous(), [kh, kw],
                                None if bias is None else bias[g * og:(g + 1) * og].contiguous(),
                                list(_pair(stride)), list(_pair(padding)), [dh, dw])
            for g in range(groups)]
    return torch.cat(outs, 1)


def cross_correlate2d(image, kernel):
    return conv2d(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
