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

Model answer
------------
Write the forward as a sum: out[n, o, i, j] = b[o] + sum over c, u, v of
w[o, c, u, v] * xp[n, c, i*s + u*d, j*s + v*d]. The chain rule then says each product term sends
grad_out[n, o, i, j] back to both of its factors. So grad_bias is simply grad_out summed over the
batch and both spatial dimensions, because the bias is added to every output pixel. grad_weight
at (o, c, u, v) is the sum over n, i, j of grad_out times the input pixel that offset saw: a
correlation of the input with grad_out, which is why frameworks compute it with a convolution.
grad_x is the mirror image: every input pixel collects grad_out times the weight, from every
window that touched it; written as an operation that is a transposed convolution of grad_out
with the same weight (stride becomes zero-insertion, padding is cropped off at the end). That is
also why transposed convolution is called the "gradient of convolution". In code the clean way is
to loop over the kernel offsets, not the pixels: for a fixed (u, v) the pixels touched form one
strided slice of the padded input with grad_out's shape, so both gradients are one einsum per
offset. Pixels that no window reached (when the stride leaves a remainder) get zero gradient,
and the padding rows are cropped away because they were constants, not inputs. The backward
costs about twice the forward's multiply-adds (one pass for grad_x, one for grad_weight) and
needs x and the weight saved from the forward.
"""

import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    _, _, h, w = x.shape
    _, _, kh, kw = weight.shape
    h_out, w_out = grad_out.shape[-2:]
    # F.pad is a copy into a larger zero tensor; the padded pixels were constants, not inputs.
    xp = F.pad(x, (pw, pw, ph, ph))
    grad_xp = torch.zeros_like(xp)
    grad_weight = torch.zeros_like(weight)
    for u in range(kh):
        for v in range(kw):
            # The input pixels kernel offset (u, v) touched: one strided slice, grad_out's shape.
            rows = slice(u * dh, u * dh + sh * (h_out - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (w_out - 1) + 1, sw)
            grad_weight[:, :, u, v] = torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, rows, cols])
            # Send grad_out back through weight[:, :, u, v] to those same pixels (accumulate:
            # with dilation < kernel size, offsets overlap).
            grad_xp[:, :, rows, cols] += torch.einsum("nohw,oc->nchw", grad_out, weight[:, :, u, v])
    grad_x = grad_xp[:, :, ph:ph + h, pw:pw + w]  # crop the padding off
    grad_bias = grad_out.sum(dim=(0, 2, 3))  # the bias was added to every output pixel
    return grad_x, grad_weight, grad_bias
