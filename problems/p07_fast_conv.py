"""p07 - Making convolution fast.

Interview question 7: "How do you make convolution efficient?"

Write conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor
with exactly the semantics of p01's conv2d (and of torch.nn.functional.conv2d), but fast:

    x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,) or None
    out (N, C_out, H_out, W_out),  H_out = floor((H + 2p - d*(kH - 1) - 1) / s) + 1
    stride, padding, dilation: an int or a pair; padding also "valid" or "same". Keep x's dtype.

Constraints: no PyTorch convolution kernels (F.conv2d, nn.Conv2d, torch.convolution...) and no
unfold/im2col (F.unfold, Tensor.unfold); the grader detects them while your code runs. Strided
views (Tensor.as_strided), matmul/einsum, torch.fft and padding are all allowed.
The speed check times you against F.conv2d on ResNet-like layers (3x3, 1x1, strided), with the
output of every timed call checked: at most 10x F.conv2d on CPU passes.

Example (work it by hand): im2col of a 1x1x3x3 input 1..9 for a 2x2 kernel is the 4x4 matrix
whose columns are the windows [1,2,4,5], [2,3,5,6], [4,5,7,8], [5,6,8,9]; a kernel of ones,
flattened to the row [1,1,1,1], times it gives [12, 16, 24, 28], i.e. [[12, 16], [24, 28]].

Follow-ups: how much memory does im2col take, and how do implicit-GEMM kernels avoid it? When
do FFT or Winograd beat im2col? Why does channels_last help on CPUs and tensor cores?
"""

import torch


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    # TODO: im2col with a strided view, then one (batched) matrix multiplication.
    raise NotImplementedError("p07: conv2d_fast is not implemented yet")
