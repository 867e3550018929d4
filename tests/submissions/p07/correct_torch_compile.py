# expected: passed
# The reference's conv2d_fast under the learner's own torch.compile, with a backend that needs no
# C compiler (aot_eager: Dynamo's graph capture and AOTAutograd, kernels from eager PyTorch). p07
# forbids library convolutions, so its worker may not run the C compiler that inductor's default
# backend would build kernels with.
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

Model answer
------------
Convolution is a lot of small dot products; done one at a time in an interpreter, the overhead
of every op dwarfs the arithmetic. The standard fix is to turn it into one large matrix
multiplication, because GEMM is the most optimised kernel there is (blocked for caches,
vectorised, multi-threaded, near peak FLOP/s). im2col lays every receptive field out as a
column: a strided view of the padded input with shape (N, C, kH, kW, H_out, W_out) costs
nothing, and reshaping it to (N, C*kH*kW, H_out*W_out) materialises the patch matrix; the
weight reshaped to (C_out, C*kH*kW) times it gives every output at once. Groups become a batch
dimension, and a 1x1 stride-1 conv is already a matmul with no copy at all. The price is memory:
the patch matrix is kH*kW times the input, which is why libraries use implicit GEMM (forming
tiles of it on the fly in cache), Winograd for 3x3 (fewer multiplies per output), FFT for large
kernels, channels_last layouts so the channel reduction is contiguous, and on GPUs cuDNN picks
among these per shape. Beyond the kernel: fuse bias and activation, use mixed precision and
tensor cores, and prefer cheaper layers (1x1 bottlenecks, depthwise-separable convs).
On the shared, heavily loaded 2-core CPU this solution measured 1.28-1.70x F.conv2d (median
over the graded shapes; 1.50x over 10 runs; see docs/benchmarks.md).
"""

import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


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


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    c_out, c_per_group, kh, kw = weight.shape
    top, bottom, left, right = _resolve_padding(padding, (kh, kw), (dh, dw))
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom))
    n, _, h, w = x.shape
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    if kh == kw == 1 and sh == sw == 1:
        # A 1x1 stride-1 conv is already a matmul over channels: no patch matrix needed.
        cols = x.reshape(n, groups, c_per_group, h * w)
    else:
        # im2col as a view: kernel axes step by dilation, output axes by stride. The reshape is
        # the one copy (the patch matrix), laid out as GEMM wants it.
        s_n, s_c, s_h, s_w = x.stride()
        cols = x.as_strided((n, groups, c_per_group, kh, kw, h_out, w_out),
                            (s_n, c_per_group * s_c, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w))
        cols = cols.reshape(n, groups, c_per_group * kh * kw, h_out * w_out)
    # (groups, C_out/g, K) @ (N, groups, K, L): one batched GEMM for every image and group.
    out = torch.matmul(weight.reshape(groups, c_out // groups, -1), cols)
    out = out.reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


_eager_conv2d_fast = conv2d_fast
conv2d_fast = torch.compile(_eager_conv2d_fast, dynamic=True, backend="aot_eager")
