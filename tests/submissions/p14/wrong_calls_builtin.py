# expected: failed
# failing: max_pool2d kernel, stride and padding; avg_pool2d; max_pool2d_backward
# message: forbidden op
# Calls PyTorch's pooling kernels, the backward through autograd of F.max_pool2d.
import torch
import torch.nn.functional as F


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return torch.nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad)(x)


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0):
    x = x.detach().requires_grad_()
    F.max_pool2d(x, kernel_size, stride, padding).backward(grad_out)
    return x.grad
