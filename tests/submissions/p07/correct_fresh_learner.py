# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p07 - my take: no im2col buffer at all. Sum over kernel taps of one GEMM each
("shift-and-GEMM"), channels on the GEMM's inner dimension, groups as a batch dimension."""
import torch
import torch.nn.functional as F


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    G = groups
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' requires stride 1")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        else:
            raise ValueError(padding)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    if any(pads):
        x = F.pad(x, pads)
    Hp, Wp = x.shape[-2:]
    oh = (Hp - dh * (kh - 1) - 1) // sh + 1
    ow = (Wp - dw * (kw - 1) - 1) // sw + 1
    Og = O // G
    # channels-last so that each tap is a (N*oh*ow, Cg) x (Cg, Og) GEMM
    xl = x.reshape(N, G, Cg, Hp, Wp).permute(1, 0, 3, 4, 2)  # G, N, Hp, Wp, Cg
    xl = xl.contiguous()
    wl = weight.reshape(G, Og, Cg, kh, kw).permute(3, 4, 0, 2, 1).contiguous()  # kh, kw, G, Cg, Og
    acc = None
    for u in range(kh):
        r0 = u * dh
        for v in range(kw):
            c0 = v * dw
            sl = xl[:, :, r0:r0 + sh * (oh - 1) + 1:sh, c0:c0 + sw * (ow - 1) + 1:sw, :]
            sl = sl.reshape(G, N * oh * ow, Cg)
            term = torch.bmm(sl, wl[u, v])  # G, N*oh*ow, Og
            acc = term if acc is None else acc.add_(term)
    out = acc.reshape(G, N, oh, ow, Og).permute(1, 0, 4, 2, 3).reshape(N, O, oh, ow)
    if bias is not None:
        out = out + bias.to(out.dtype).view(1, O, 1, 1)
    return out.to(x.dtype).contiguous()
