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

Model answer
------------
Depthwise convolution does k*k multiply-adds per output, about 9 for 3x3, against one input read
and one output write, so in fp32 that is roughly 18 flops per 8 bytes: far below the ~100
flops/byte an H100 needs to be compute-bound. The kernel is memory-bound, so the goal is to move
each byte of x and y through DRAM once and reach a large fraction of peak bandwidth; counting
FLOPs is the wrong metric. Every (n, c) plane is independent, so I launch a grid of (N*C, row
tiles, column tiles). A program builds its tile of output coordinates with tl.arange, and for each
of the kH*kW taps, unrolled at compile time because kH and kW are constexpr, loads the shifted
input tile with a border mask whose `other=0` is the zero padding, multiplies it by that tap's
scalar weight held in a register, and accumulates in fp32. The overlapping halo between
neighbouring tiles is re-read, but it hits L1/L2, so DRAM traffic stays close to one pass. The
tile is wide along W so each warp reads contiguous memory. At the end I add the bias and cast
once to the output dtype, so fp16 keeps fp32 accuracy in the sum. PyTorch's own NCHW depthwise
kernel reaches only a fraction of peak on large images; a tiled kernel like this one should get
to well over half of peak (unmeasured here: the project's CI has no GPU).
"""

import torch

try:
    import triton
    import triton.language as tl
except ImportError as exc:  # a clear message instead of a bare ModuleNotFoundError
    raise ImportError("p15 needs Triton: pip install 'convkata[gpu]'") from exc

BLOCK_H, BLOCK_W = 16, 64  # 1024 outputs per program; wide along W for coalesced loads


@triton.jit
def _depthwise_kernel(x_ptr, w_ptr, b_ptr, y_ptr, C, H, W, H_OUT, W_OUT, SH, SW, PH, PW,
                      KH: tl.constexpr, KW: tl.constexpr, HAS_BIAS: tl.constexpr,
                      BLOCK_H: tl.constexpr, BLOCK_W: tl.constexpr):
    plane = tl.program_id(0)  # n * C + c
    c = plane % C
    oh = tl.program_id(1) * BLOCK_H + tl.arange(0, BLOCK_H)[:, None]
    ow = tl.program_id(2) * BLOCK_W + tl.arange(0, BLOCK_W)[None, :]
    x_plane = x_ptr + plane.to(tl.int64) * H * W  # int64: N*C*H*W can pass 2**31
    acc = tl.zeros((BLOCK_H, BLOCK_W), dtype=tl.float32)
    for u in tl.static_range(KH):  # unrolled: each tap's weight is one scalar in a register
        ih = oh * SH - PH + u
        row_ok = (ih >= 0) & (ih < H)
        for v in tl.static_range(KW):
            iw = ow * SW - PW + v
            inside = row_ok & (iw >= 0) & (iw < W)  # outside the image reads the zero padding
            pixels = tl.load(x_plane + ih * W + iw, mask=inside, other=0.0)
            tap = tl.load(w_ptr + c * KH * KW + u * KW + v)
            acc += pixels.to(tl.float32) * tap.to(tl.float32)
    if HAS_BIAS:
        acc += tl.load(b_ptr + c).to(tl.float32)
    keep = (oh < H_OUT) & (ow < W_OUT)
    y_plane = y_ptr + plane.to(tl.int64) * H_OUT * W_OUT
    tl.store(y_plane + oh * W_OUT + ow, acc.to(y_ptr.dtype.element_ty), mask=keep)  # one cast


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def depthwise_conv2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0) -> torch.Tensor:
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    n, c, h, w = x.shape
    kh, kw = weight.shape[-2:]
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    x, weight = x.contiguous(), weight.contiguous()  # the kernel indexes dense NCHW
    y = torch.empty((n, c, h_out, w_out), dtype=x.dtype, device=x.device)
    grid = (n * c, triton.cdiv(h_out, BLOCK_H), triton.cdiv(w_out, BLOCK_W))
    _depthwise_kernel[grid](x, weight, bias.contiguous() if bias is not None else weight, y,
                            c, h, w, h_out, w_out, sh, sw, ph, pw, KH=kh, KW=kw,
                            HAS_BIAS=bias is not None, BLOCK_H=BLOCK_H, BLOCK_W=BLOCK_W)
    return y
