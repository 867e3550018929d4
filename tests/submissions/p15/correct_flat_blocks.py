# expected: passed
"""p15 corpus: correct, tiled differently from the reference: 1-D blocks over the flattened
output plane, taps looped columns-outer, the accumulator started from the bias."""

import torch
import triton
import triton.language as tl


@triton.jit
def _dw_flat(x_ptr, w_ptr, b_ptr, y_ptr, C, H, W, HO, WO, SH, SW, PH, PW,
             KH: tl.constexpr, KW: tl.constexpr, HAS_BIAS: tl.constexpr, BLOCK: tl.constexpr):
    plane = tl.program_id(0)
    c = plane % C
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    oh = offs // WO
    ow = offs % WO
    live = offs < HO * WO
    if HAS_BIAS:
        acc = tl.zeros((BLOCK,), dtype=tl.float32) + tl.load(b_ptr + c).to(tl.float32)
    else:
        acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for v in tl.static_range(KW):
        iw = ow * SW + v - PW
        for u in tl.static_range(KH):
            ih = oh * SH + u - PH
            ok = live & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            px = tl.load(x_ptr + plane * H * W + ih * W + iw, mask=ok, other=0.0)
            acc += px.to(tl.float32) * tl.load(w_ptr + c * KH * KW + u * KW + v).to(tl.float32)
    tl.store(y_ptr + plane * HO * WO + offs, acc.to(y_ptr.dtype.element_ty), mask=live)


def depthwise_conv2d(x, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n, c, h, w = x.shape
    kh, kw = weight.shape[2], weight.shape[3]
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = x.new_empty((n, c, ho, wo))
    block = 256
    _dw_flat[(n * c, triton.cdiv(ho * wo, block))](
        x.contiguous(), weight.contiguous(), weight if bias is None else bias, y,
        c, h, w, ho, wo, sh, sw, ph, pw, KH=kh, KW=kw, HAS_BIAS=bias is not None, BLOCK=block)
    return y
