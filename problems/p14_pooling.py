"""p14 - Max and average pooling, forward and backward.

Interview question: "What does pooling do in a CNN? How do max pooling and average pooling
differ, in the forward pass and in the backward pass?"

Exactly torch.nn.functional's max_pool2d / avg_pool2d, with loops (x is (N, C, H, W)):

max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)
avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    out (N, C, H_out, W_out),  H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1
    stride=None means stride = kernel_size; every size is an int or a pair (rows, columns);
    padding <= kernel_size // 2. Max pooling pads with -inf, average pooling with zeros.
    ceil_mode: ceil instead of floor, but a last window that would start in the right padding
    (at or past H + padding, in padded coordinates) is dropped.
    return_indices=True returns (values, indices): int64 flat positions y*W + x within each
    (H, W) plane of the unpadded input; a tie goes to the first maximum in row-major window order.
    avg divisor: count_include_pad=True counts the window's cells inside the padded input (not
    those past it, which ceil_mode can create); False counts only cells inside the input.

max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0) -> grad_x
    The gradient of max_pool2d(x, kernel_size, stride, padding).sum() weighted by grad_out:
    each window's grad_out goes to the position of its (first) maximum; overlaps add up.
    grad_out (N, C, H_out, W_out), grad_x (N, C, H, W). Keep x's dtype everywhere.

Constraints: no pooling ops (F.max_pool2d, F.avg_pool2d, adaptive pools, their backwards), no
convolution, no unfold.

Example (work it by hand): x = [[1, 3, 3], [3, 2, 1], [0, 3, 3]] (as 1x1x3x3), kernel 2, stride 1:
    max_pool2d -> [[3, 3], [3, 3]], indices [[1, 1], [3, 7]] (ties: the first maximum)
    max_pool2d_backward(ones) -> [[0, 2, 0], [1, 0, 0], [0, 1, 0]]
    avg_pool2d -> [[2.25, 2.25], [2, 2.25]]

Follow-ups: why does max pooling give some translation invariance? Why is average pooling's
gradient dense and max pooling's sparse? Why do modern nets often replace pooling with strided
convs, and keep global average pooling at the end?
"""

import torch


def max_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    # TODO: pad with -inf, loop over output positions, take each window's max (and its position).
    raise NotImplementedError("p14: max_pool2d is not implemented yet")


def avg_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    # TODO: pad with zeros, sum each window, divide by the right count.
    raise NotImplementedError("p14: avg_pool2d is not implemented yet")


def max_pool2d_backward(grad_out: torch.Tensor, x: torch.Tensor, kernel_size, stride=None, padding=0):
    # TODO: route each window's grad_out to the position of its first maximum.
    raise NotImplementedError("p14: max_pool2d_backward is not implemented yet")
