# expected: passed
# A correct answer that writes 40 MB to stdout and 40 MB to stderr: it still passes, the
# captured output is capped with a "[truncated N bytes]" marker and no pipe fills up.
import os
import sys

import torch

_MB = b"x" * (1 << 20)
for _ in range(20):
    os.write(1, _MB)
    os.write(2, _MB)
sys.stdout.write("flood " * 100000)
sys.stdout.flush()

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


_plain_conv2d = conv2d


def conv2d(*args, **kwargs):  # noqa: F811  (more output on every call)
    os.write(1, _MB)
    os.write(2, _MB)
    return _plain_conv2d(*args, **kwargs)
