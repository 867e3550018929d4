"""p01 - Convolution with loops.

Interview question 1: "What is the convolution operation, and what does it do in deep learning?"

Write three functions with explicit loops (no F.conv2d, no unfold/im2col, no pooling):

cross_correlate2d(image, kernel) -> Tensor
    image (H, W), kernel (kH, kW); 'valid' mode, output (H - kH + 1, W - kW + 1):
        out[i, j] = sum_{u, v} image[i + u, j + v] * kernel[u, v]
    This is what deep-learning libraries call "convolution".

convolve2d(image, kernel) -> Tensor
    The mathematical convolution: the same, with the kernel flipped in both directions.

conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor
    Exactly torch.nn.functional.conv2d:
        x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,) or None
        out (N, C_out, H_out, W_out),  H_out = floor((H + 2p - d*(kH - 1) - 1) / s) + 1
    stride, padding and dilation are an int or a pair (rows, columns); padding may also be
    "valid" (no padding) or "same" (output as large as the input; stride must be 1; when the
    total padding d*(k-1) is odd the extra pixel goes after, as in PyTorch). Keep x's dtype.

Example (work it by hand):
    image = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel = [[1, 1], [1, 1]]
    cross_correlate2d(image, kernel) == [[12, 16], [24, 28]]
    (The source article prints a different answer: it is wrong.)

Follow-ups an interviewer may ask: why do CNNs use cross-correlation and still call it
convolution? How many multiply-adds does conv2d do? What do weight sharing and locality buy?
"""

import torch


def cross_correlate2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # TODO: loop over output positions; each is a sum of image window * kernel.
    raise NotImplementedError("p01: cross_correlate2d is not implemented yet")


def convolve2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # TODO: convolution = cross-correlation with the kernel turned by 180 degrees.
    raise NotImplementedError("p01: convolve2d is not implemented yet")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    # TODO: pad, then loop over batch, output channel and output position.
    raise NotImplementedError("p01: conv2d is not implemented yet")
