# expected: failed
# failing: max_pool2d ceil_mode and dilation
# Sizes the padded plane with the strides swapped: too short when a ceil_mode window hangs past
# the padded input along a stride-2 dimension (a mutation-audit survivor).
import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _out_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode):
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(kernel_size if stride is None else stride)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    h, w = x.shape[-2:]
    ho, wo = _out_size(h, kh, sh, ph, dh, ceil_mode), _out_size(w, kw, sw, pw, dw, ceil_mode)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo)


def _pad(x, ph, pw, ho, wo, sh, sw, span_h, span_w, value):
    """x padded by `padding` on each side, plus whatever a ceil_mode window hangs past the end."""
    n, c, h, w = x.shape
    full_h = max(h + 2 * ph, (ho - 1) * sh + span_h)
    full_w = max(w + 2 * pw, (wo - 1) * sw + span_w)
    out = x.new_full((n, c, full_h, full_w), value)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def max_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _geometry(x, kernel_size, stride, padding,
                                                                 dilation, ceil_mode)
    n, c, h, w = x.shape
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # -inf padding never wins a max, so all-negative inputs are pooled correctly.
    xp = _pad(x, ph, pw, ho, wo, sw, sh, span_h, span_w, float("-inf"))  # wrong: swapped
    out = x.new_empty(n, c, ho, wo)
    indices = torch.empty(n, c, ho, wo, dtype=torch.int64)
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw].reshape(n, c, kh * kw)
            arg = window.argmax(dim=-1)  # the first maximum in row-major window order
            out[:, :, i, j] = window.gather(-1, arg[..., None])[..., 0]
            # Back from the window's (u, v) to the unpadded plane's flat index y*W + x.
            y = i * sh - ph + (arg // kw) * dh
            xx = j * sw - pw + (arg % kw) * dw
            indices[:, :, i, j] = y * w + xx
    return (out, indices) if return_indices else out


def avg_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    (kh, kw), (sh, sw), (ph, pw), _, (ho, wo) = _geometry(x, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = x.shape
    xp = _pad(x, ph, pw, ho, wo, sh, sw, kh, kw, 0.0)
    out = x.new_empty(n, c, ho, wo)
    for i in range(ho):
        for j in range(wo):
            total = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].sum(dim=(-2, -1))
            top, left = i * sh - ph, j * sw - pw
            if count_include_pad:  # cells inside the padded input, not past it
                rows = min(top + kh, h + ph) - top
                cols = min(left + kw, w + pw) - left
            else:  # only the input's own cells
                rows = min(top + kh, h) - max(top, 0)
                cols = min(left + kw, w) - max(left, 0)
            out[:, :, i, j] = total / (rows * cols)
    return out


def max_pool2d_backward(grad_out: torch.Tensor, x: torch.Tensor, kernel_size, stride=None, padding=0):
    _, indices = max_pool2d(x, kernel_size, stride, padding, return_indices=True)
    n, c, h, w = x.shape
    grad_x = torch.zeros(n, c, h * w, dtype=x.dtype)
    # Each window's gradient goes to its argmax only; windows that share an argmax add up.
    grad_x.scatter_add_(2, indices.reshape(n, c, -1), grad_out.reshape(n, c, -1).to(x.dtype))
    return grad_x.reshape(n, c, h, w)
