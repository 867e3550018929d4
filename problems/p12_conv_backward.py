"""p12 - Conv backward by hand.

Interview question (beyond the ten): "Derive and implement the backward pass of a 2-D
convolution: the gradients of the loss with respect to the input, the weight and the bias."

conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1)
        -> (grad_x, grad_weight, grad_bias)
    The forward was out = F.conv2d(x, weight, bias, stride, padding, dilation) (groups=1):
        x (N, C, H, W), weight (O, C, kH, kW), bias (O,)
        out, grad_out (N, O, H_out, W_out),  H_out = floor((H + 2p - d*(kH - 1) - 1) / s) + 1
        out[n, o, i, j] = bias[o] + sum_{c,u,v} weight[o, c, u, v] * xp[n, c, i*s + u*d, j*s + v*d]
    (xp is x zero-padded by p). Return dL/dx (N, C, H, W), dL/dweight (O, C, kH, kW) and
    dL/dbias (O,), given grad_out = dL/dout. stride, padding, dilation: an int or a pair (rows,
    columns). Keep x's dtype.

Constraints: no autograd (torch.autograd.grad, Tensor.backward, torch.func, forward-mode AD),
no convolution kernels (F.conv2d, F.conv_transpose2d, torch.nn.grad), no unfold/im2col. Loops,
slicing, as_strided window views, einsum/matmul and F.pad are fine. The grader detects the
forbidden calls.

Example (work it by hand): x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] (N = C = 1), weight = a 2x2
kernel, stride 1, grad_out = [[1, 0], [0, 0]] (only out[0, 0] matters):
    grad_weight = [[1, 2], [4, 5]]   (the window out[0, 0] saw)
    grad_x      = weight placed at the top-left corner, zeros elsewhere
    grad_bias   = [1]

Follow-ups an interviewer may ask: why is grad_x a transposed convolution of grad_out with the
same weight? Why is grad_weight a convolution of x with grad_out? What happens to grad_x in rows
that no window reached when the stride does not divide evenly? How much memory does the
backward need compared with the forward?
"""

import torch


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    # TODO: for every kernel offset (u, v), route grad_out back to the input pixels and weights it used.
    raise NotImplementedError("p12: conv2d_backward is not implemented yet")
