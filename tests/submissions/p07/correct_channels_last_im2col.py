# expected: passed
# options: speed
# A correct p07 that differs from the reference: channels-last im2col (patch rows of
# kH*kW*C contiguous values) and one matmul per group, written with an explicit group loop.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    o, cg, kh, kw = weight.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    x = F.pad(x, pads).permute(0, 2, 3, 1).contiguous()  # N, H, W, C
    n, h, w, c = x.shape
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    s_n, s_h, s_w, s_c = x.stride()
    outs = []
    for g in range(groups):
        xg = x[..., g * cg:(g + 1) * cg]
        rows = xg.as_strided((n, ho, wo, kh, kw, cg), (s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, s_c),
                             xg.storage_offset()).reshape(n * ho * wo, kh * kw * cg)
        wg = weight[g * (o // groups):(g + 1) * (o // groups)].permute(2, 3, 1, 0).reshape(kh * kw * cg, -1)
        outs.append(rows @ wg)
    out = torch.cat(outs, dim=1).reshape(n, ho, wo, o).permute(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.contiguous()
