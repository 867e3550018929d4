# expected: failed
# failing: stride and padding; output_padding; dilation and groups
# message: slow_conv_transpose2d
# Ban bypass (issue 13, route 1): the leaf transposed-convolution kernel reached through
# OpOverload.redispatch with a CPU-only dispatch key set, past the grader's dispatch mode.
import torch
from torch._C import DispatchKey, DispatchKeySet

_CPU = DispatchKeySet(DispatchKey.CPU)
_transposed = torch.ops.aten.slow_conv_transpose2d.default


def _pair(v):
    return [v, v] if isinstance(v, int) else [int(v[0]), int(v[1])]


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    cg, og = x.shape[1] // groups, weight.shape[1]
    outs = [_transposed.redispatch(_CPU, x[:, g * cg:(g + 1) * cg].contiguous(),
                                   weight[g * cg:(g + 1) * cg].contiguous(), list(weight.shape[2:]),
                                   None if bias is None else bias[g * og:(g + 1) * og].contiguous(),
                                   _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation))
            for g in range(groups)]
    return torch.cat(outs, 1)
