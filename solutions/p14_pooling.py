"""p14 - Max and average pooling, forward and backward.

Interview question: "What does pooling do in a CNN? How do max pooling and average pooling
differ, in the forward pass and in the backward pass?"

Exactly torch.nn.functional's max_pool2d / avg_pool2d, with loops (x is (N, C, H, W)):

max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)
avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    out (N, C, H_out, W_out),  H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1
    stride=None means stride = kernel_size; every size is an int or a pair (rows, columns);
    padding <= kernel_size // 2. Max pooling pads with -inf, average pooling with zeros.
    ceil_mode: ceil instead of floor, but a last window that would start in the right padding
    (at or past H + padding, in padded coordinates) is dropped.
    return_indices=True returns (values, indices): int64 flat positions y*W + x within each
    (H, W) plane of the unpadded input; a tie goes to the first maximum in row-major window order.
    avg divisor: count_include_pad=True counts the window's cells inside the padded input (not
    those past it, which ceil_mode can create); False counts only cells inside the input.

max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0) -> grad_x
    The gradient of max_pool2d(x, kernel_size, stride, padding).sum() weighted by grad_out:
    each window's grad_out goes to the position of its (first) maximum; overlaps add up.
    grad_out (N, C, H_out, W_out), grad_x (N, C, H, W). Keep x's dtype everywhere.

Constraints: no pooling ops (F.max_pool2d, F.avg_pool2d, adaptive pools, their backwards), no
convolution, no unfold.

Example (work it by hand): x = [[1, 3, 3], [3, 2, 1], [0, 3, 3]] (as 1x1x3x3), kernel 2, stride 1:
    max_pool2d -> [[3, 3], [3, 3]], indices [[1, 1], [3, 7]] (ties: the first maximum)
    max_pool2d_backward(ones) -> [[0, 2, 0], [1, 0, 0], [0, 1, 0]]
    avg_pool2d -> [[2.25, 2.25], [2, 2.25]]

Follow-ups: why does max pooling give some translation invariance? Why is average pooling's
gradient dense and max pooling's sparse? Why do modern nets often replace pooling with strided
convs, and keep global average pooling at the end?

Model answer
------------
Pooling summarises each small neighbourhood of a feature map by one number, channel by channel,
with no learned weights: it shrinks the spatial size (less compute and memory downstream), grows
the receptive field of later layers, and makes the output less sensitive to small shifts of a
feature. Max pooling keeps the strongest response in the window - "is the pattern present
somewhere here?" - while average pooling keeps the mean response, a smoother low-pass summary;
global average pooling at the end of a network turns each channel into one feature for the
classifier. The backward passes differ accordingly. Average pooling is linear: every input cell
in a window receives grad/divisor, so its gradient is dense. Max pooling is piecewise linear: only
the argmax of each window influenced the output, so the whole gradient goes to that one cell (the
framework stores the indices in the forward pass, which is what return_indices exposes) and every
other cell gets zero - a sparse gradient, with ties broken by convention (PyTorch: the first
maximum). Edge cases are where implementations disagree: padding is -inf for max but zeros for
average (and count_include_pad decides whether those zeros count in the divisor), and ceil_mode
adds a last partial window only if it starts inside the input. Many modern architectures replace
pooling by strided convolutions, which downsample with learned weights.
"""

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
    xp = _pad(x, ph, pw, ho, wo, sh, sw, span_h, span_w, float("-inf"))
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
