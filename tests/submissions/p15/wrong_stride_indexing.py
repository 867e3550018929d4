# expected: failed
# failing: stride; float16
# message: max abs error
"""p15 corpus: wrong_stride_indexing.py."""

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
        ih = oh - PH + u * SH  # BUG: stride applied to the tap, not the output
        row_ok = (ih >= 0) & (ih < H)
        for v in tl.static_range(KW):
            iw = ow - PW + v * SW
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
