# expected: failed
# failing: cross_correlate2d; conv2d stride and padding
# message: in place
# Computes the right answer, then scribbles over its inputs (a caller's tensors must survive).
import torch

def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _windows(x, kh, kw, sh, sw, dh, dw):
    h_out = (x.shape[-2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (x.shape[-1] - dw * (kw - 1) - 1) // sw + 1
    rows = (torch.arange(h_out) * sh)[:, None] + torch.arange(kh)[None, :] * dh
    cols = (torch.arange(w_out) * sw)[:, None] + torch.arange(kw)[None, :] * dw
    return x[..., rows[:, :, None, None], cols[None, None, :, :]]


def cross_correlate2d(image, kernel):
    win = _windows(image, kernel.shape[0], kernel.shape[1], 1, 1, 1, 1)
    return torch.einsum("akbl,kl->ab", win, kernel)


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel.flip(0, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
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
    x = torch.nn.functional.pad(x, pads)
    n = x.shape[0]
    win = _windows(x, kh, kw, sh, sw, dh, dw)
    win = win.reshape(n, groups, cg, *win.shape[2:])
    w = weight.reshape(groups, o // groups, cg, kh, kw)
    out = torch.einsum("ngcakbl,gockl->ngoab", win, w).reshape(n, o, win.shape[3], win.shape[5])
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


_cc, _conv = cross_correlate2d, conv2d


def cross_correlate2d(image, kernel):  # noqa: F811
    out = _cc(image, kernel)
    kernel.zero_()
    return out


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: F811
    out = _conv(x, weight, bias, stride, padding, dilation, groups)
    x.mul_(2.0)
    return out
