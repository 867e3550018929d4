# expected: passed
# A correct p14 that differs from the reference: every window at once through an as_strided view
# of the padded input (N, C, Ho, Wo, kH, kW), no Python loop over output positions; the backward
# pass is a scatter of grad_out at the forward's indices.
import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def _windows(x, kernel_size, stride, padding, dilation, ceil_mode, fill):
    (kh, kw), (ph, pw), (dh, dw) = _pair(kernel_size), _pair(padding), _pair(dilation)
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    ho, wo = _size(h, kh, sh, ph, dh, ceil_mode), _size(w, kw, sw, pw, dw, ceil_mode)
    big_h = max(h + 2 * ph, (ho - 1) * sh + dh * (kh - 1) + 1)
    big_w = max(w + 2 * pw, (wo - 1) * sw + dw * (kw - 1) + 1)
    xp = x.new_full((n, c, big_h, big_w), fill)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    a, b, r, q = xp.stride()
    win = xp.as_strided((n, c, ho, wo, kh, kw), (a, b, r * sh, q * sw, r * dh, q * dw))
    return win, (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    win, (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _windows(
        x, kernel_size, stride, padding, dilation, ceil_mode, float("-inf"))
    flat = win.reshape(*win.shape[:4], kh * kw)
    values, arg = flat.max(dim=-1)
    arg = flat.argmax(dim=-1)  # argmax documents the first maximum on ties
    rows = torch.arange(ho).view(ho, 1) * sh - ph + (arg // kw) * dh
    cols = torch.arange(wo).view(1, wo) * sw - pw + (arg % kw) * dw
    indices = rows * x.shape[-1] + cols
    return (values, indices) if return_indices else values


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    win, (kh, kw), (sh, sw), (ph, pw), _, (ho, wo) = _windows(x, kernel_size, stride, padding, 1, ceil_mode, 0.0)
    h, w = x.shape[-2:]
    top = torch.arange(ho) * sh - ph
    left = torch.arange(wo) * sw - pw
    if count_include_pad:
        rows = torch.clamp(top + kh, max=h + ph) - top
        cols = torch.clamp(left + kw, max=w + pw) - left
    else:
        rows = torch.clamp(top + kh, max=h) - torch.clamp(top, min=0)
        cols = torch.clamp(left + kw, max=w) - torch.clamp(left, min=0)
    count = (rows.view(ho, 1) * cols.view(1, wo)).to(x.dtype)
    return win.sum(dim=(-2, -1)) / count


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0):
    _, idx = max_pool2d(x, kernel_size, stride, padding, return_indices=True)
    n, c, h, w = x.shape
    grad = torch.zeros(n, c, h * w, dtype=x.dtype)
    grad.scatter_add_(-1, idx.reshape(n, c, -1), grad_out.reshape(n, c, -1))
    return grad.view(n, c, h, w)
