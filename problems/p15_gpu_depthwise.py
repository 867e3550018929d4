"""p15 - A depthwise convolution kernel in Triton.

Interview question (beyond the articles): "Depthwise convolution is a large share of a MobileNet's
run time but a tiny share of its FLOPs. Write a fast GPU kernel for it."

depthwise_conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor
    Exactly torch.nn.functional.conv2d(x, weight, bias, stride, padding, groups=C):
        x (N, C, H, W), weight (C, 1, kH, kW), bias (C,) or None
        out[n, c, i, j] = bias[c] + sum_{u, v} xpad[n, c, i*sH + u, j*sW + v] * weight[c, 0, u, v]
        out (N, C, H_out, W_out),  H_out = floor((H + 2*pH - kH) / sH) + 1  (W likewise)
    stride and padding are an int or a pair (rows, columns); padding is zeros. float32 and
    float16; the output keeps x's dtype and device.

Constraints: write the kernel yourself with Triton (`pip install 'convkata[gpu]'`); the
convolution ops (F.conv2d, torch.conv2d, ...) are forbidden. On a machine without a GPU the grader
runs your kernel through Triton's interpreter (TRITON_INTERPRET=1, set for you) at roughly
10-100 ms per program, with tiny inputs (at most 2x2 planes of 12x12): give each program a tile of
outputs (e.g. 16x64), not one pixel, or grading will time out. Speed is graded on CUDA only,
against F.conv2d(groups=C) on MobileNet-style and large-image shapes, fp32 and fp16.

Example (work it by hand): x = 1..9 as a (1, 1, 3, 3) image, weight = ones (1, 1, 2, 2), no bias
    depthwise_conv2d(x, weight)            -> [[[[12, 16], [24, 28]]]]
    depthwise_conv2d(x, weight, padding=1) -> 4x4, corners 1, 3, 7, 9; centre [[12, 16], [24, 28]]

Follow-ups an interviewer may ask: is this kernel compute- or memory-bound (arithmetic intensity
of a 3x3 depthwise conv in fp32)? What bandwidth does it reach against the card's peak? How do
halos between tiles cost extra reads, and how would you reuse them (shared memory, rows in
registers)? How would channels-last (NHWC) layout change the tiling? Why accumulate fp16 in fp32?
"""

import torch

try:
    import triton
    import triton.language as tl
except ImportError as exc:  # a clear message instead of a bare ModuleNotFoundError
    raise ImportError("p15 needs Triton: pip install 'convkata[gpu]'") from exc


# TODO: a @triton.jit kernel: one program per (n*c plane, tile of output rows, tile of columns).


def depthwise_conv2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0) -> torch.Tensor:
    # TODO: compute H_out, W_out, allocate the output in x's dtype, launch the kernel on a grid.
    raise NotImplementedError("p15: depthwise_conv2d is not implemented yet")
