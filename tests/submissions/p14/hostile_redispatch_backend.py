# expected: failed
# failing: max_pool2d kernel, stride and padding; avg_pool2d; max_pool2d_backward
# message: pool2d
# Ban bypass (issue 13, route 1): the pooling kernels reached through OpOverload.redispatch with
# a CPU-only dispatch key set, past the grader's dispatch mode.
import torch
from torch._C import DispatchKey, DispatchKeySet

_CPU = DispatchKeySet(DispatchKey.CPU)
aten = torch.ops.aten


def _pair(v):
    return [v, v] if isinstance(v, int) else [int(v[0]), int(v[1])]


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    stride = kernel_size if stride is None else stride
    values, indices = aten.max_pool2d_with_indices.default.redispatch(
        _CPU, x, _pair(kernel_size), _pair(stride), _pair(padding), _pair(dilation), ceil_mode)
    return (values, indices) if return_indices else values


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    stride = kernel_size if stride is None else stride
    return aten.avg_pool2d.default.redispatch(_CPU, x, _pair(kernel_size), _pair(stride), _pair(padding),
                                              ceil_mode, count_include_pad, None)


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0):
    stride = kernel_size if stride is None else stride
    k, s, p = _pair(kernel_size), _pair(stride), _pair(padding)
    _, indices = aten.max_pool2d_with_indices.default.redispatch(_CPU, x, k, s, p, [1, 1], False)
    return aten.max_pool2d_with_indices_backward.default.redispatch(
        _CPU, grad_out, x, k, s, p, [1, 1], False, indices)
