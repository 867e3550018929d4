# expected: passed
# A correct p07 that differs from the reference: convolution theorem. Cross-correlation is a
# product in the frequency domain (with the kernel conjugated), summed over input channels;
# dilation spreads the kernel, stride subsamples the stride-1 result.
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
    x = F.pad(x, pads)
    n, c, h, w = x.shape
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    k = weight.new_zeros(o, cg, ekh, ekw)
    k[:, :, ::dh, ::dw] = weight  # the dilated kernel
    fx = torch.fft.rfft2(x.reshape(n, groups, 1, cg, h, w), s=(h, w))
    fk = torch.fft.rfft2(k.reshape(1, groups, o // groups, cg, ekh, ekw), s=(h, w))
    full = torch.fft.irfft2((fx * fk.conj()).sum(dim=3), s=(h, w))  # circular cross-correlation
    out = full.reshape(n, o, h, w)[:, :, :h - ekh + 1:sh, :w - ekw + 1:sw]
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.to(x.dtype).contiguous()
