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

Model answer
------------
A convolution slides a small learned filter over the input and, at every position, takes the
dot product of the filter with the patch under it. Deep-learning libraries actually compute a
cross-correlation (no kernel flip); since the kernel is learned, the flip makes no difference to
what a network can represent, so the name stuck. The operation has two properties that make it
the workhorse of vision models: locality (each output depends on a small neighbourhood, matching
the local structure of images) and weight sharing (the same filter is used at every position, so
a layer has C_out*C_in*k*k parameters whatever the image size, and a pattern is detected wherever
it appears: translation equivariance). Stacking layers grows the receptive field so later layers
see larger structures. The cost is N*C_out*H_out*W_out*(C_in/groups)*kH*kW multiply-adds, which
is why efficient variants (depthwise-separable, 1x1 bottlenecks) matter.
"""

import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def cross_correlate2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    kh, kw = kernel.shape
    out = image.new_zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


def convolve2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # The only difference from cross-correlation: the kernel is turned by 180 degrees.
    return cross_correlate2d(image, kernel.flip(0, 1))


def _resolve_padding(padding, kernel_hw, dilation):
    """Per-side padding (top, bottom, left, right) for an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        sides = []
        for k, d in zip(kernel_hw, dilation):
            total = d * (k - 1)
            sides += [total // 2, total - total // 2]  # odd total: the extra pixel goes after
        return tuple(sides)
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    c_out, c_per_group, kh, kw = weight.shape
    top, bottom, left, right = _resolve_padding(padding, (kh, kw), (dh, dw))
    # F.pad is a plain copy into a larger zero tensor, not a convolution kernel.
    x = F.pad(x, (left, right, top, bottom))
    n, _, h, w = x.shape
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    out = x.new_zeros(n, c_out, h_out, w_out)
    out_per_group = c_out // groups
    for o in range(c_out):
        first = (o // out_per_group) * c_per_group  # this output channel's slice of input channels
        channels = x[:, first:first + c_per_group]
        for i in range(h_out):
            for j in range(w_out):
                window = channels[:, :, i * sh: i * sh + dh * (kh - 1) + 1: dh,
                                  j * sw: j * sw + dw * (kw - 1) + 1: dw]
                out[:, o, i, j] = (window * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
