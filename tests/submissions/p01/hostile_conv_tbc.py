# expected: failed
# failing: conv2d stride and padding
# message: conv_tbc
# Ban bypass: the whole convolution runs in aten::conv_tbc (a 1-D convolution kernel that is not in
# bans.CONV_ATEN/CONV_PY), one call per kernel row. No loops over pixels.
import torch
import torch.nn.functional as F

def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

def _conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    O, Cg, kh, kw = weight.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    x = F.pad(x, pads)
    N, C, H, W = x.shape
    Ho = (H - dh * (kh - 1) - 1) // sh + 1
    Wo = (W - dw * (kw - 1) - 1) // sw + 1
    kwe = dw * (kw - 1) + 1
    Og = O // groups
    outs = []
    for g in range(groups):
        xg, wg = x[:, g * Cg:(g + 1) * Cg], weight[g * Og:(g + 1) * Og]
        acc = 0
        for u in range(kh):
            rows = xg[:, :, u * dh: u * dh + (Ho - 1) * sh + 1: sh, :]  # N,Cg,Ho,W
            inp = rows.permute(3, 0, 2, 1).reshape(W, N * Ho, Cg).contiguous()
            wd = torch.zeros(kwe, Cg, Og, dtype=x.dtype)
            wd[::dw] = wg[:, :, u, :].permute(2, 1, 0)
            o = torch.conv_tbc(inp, wd.contiguous(), torch.zeros(Og, dtype=x.dtype), 0)  # W-kwe+1, N*Ho, Og
            o = o[::sw][:Wo]
            acc = acc + o.reshape(Wo, N, Ho, Og).permute(1, 3, 2, 0)
        outs.append(acc)
    out = torch.cat(outs, 1)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.contiguous()

def cross_correlate2d(image, kernel):
    return _conv(image[None, None], kernel[None, None])[0, 0]

def convolve2d(image, kernel):
    return _conv(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]

conv2d = _conv
