# expected: failed
# options: speed
# failing: speed on CPU vs F.conv2d
# message: stopped there
# Correct, but loops over output pixels in Python: hundreds of times slower than F.conv2d.
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
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    wm = weight.reshape(groups, og, -1)
    out = x.new_zeros(n, o, ho, wo)
    for i in range(ho):
        for j in range(wo):
            win = x[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
            win = win.reshape(n, groups, cg * kh * kw, 1)
            out[:, :, i, j] = (wm @ win).reshape(n, o)
    return out if bias is None else out + bias.view(1, -1, 1, 1)
