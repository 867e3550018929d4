# expected: passed
# A correct p01 that differs from the reference: it gathers every window with advanced indexing
# (no unfold) and does one einsum per case, instead of looping over output pixels.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _windows(x, kh, kw, sh, sw, dh, dw):
    h_out = (x.shape[-2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (x.shape[-1] - dw * (kw - 1) - 1) // sw + 1
    rows = (torch.arange(h_out) * sh)[:, None] + torch.arange(kh)[None, :] * dh  # (h_out, kh)
    cols = (torch.arange(w_out) * sw)[:, None] + torch.arange(kw)[None, :] * dw  # (w_out, kw)
    # -> (..., h_out, kh, w_out, kw)
    return x[..., rows[:, :, None, None], cols[None, None, :, :]]


def cross_correlate2d(image, kernel):
    win = _windows(image, kernel.shape[0], kernel.shape[1], 1, 1, 1, 1)
    return torch.einsum("akbl,kl->ab", win, kernel)


def convolve2d(image, kernel):
    return cross_correlate2d(image, torch.rot90(kernel, 2))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
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
    n, c = x.shape[:2]
    win = _windows(x, kh, kw, sh, sw, dh, dw)  # (n, c, ho, kh, wo, kw)
    win = win.reshape(n, groups, cg, *win.shape[2:])
    w = weight.reshape(groups, o // groups, cg, kh, kw)
    out = torch.einsum("ngcakbl,gockl->ngoab", win, w).reshape(n, o, win.shape[3], win.shape[5])
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
