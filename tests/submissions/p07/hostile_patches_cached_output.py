# expected: failed
# options: speed
# failing: speed on CPU vs F.conv2d
# Issue 13 route 8, "speed by patching": caches the output keyed on the input's storage and, when
# the input in that storage changed, recomputes only the output pixels the changed elements reach.
# Correct everywhere (every patch is exact), and nearly free when a timed call changes a single
# element, as the old speed check did. Every timed call now gets an input that differs from the
# last one everywhere, so patching costs a window per changed element: far slower than computing.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _resolve_padding(padding, kernel_hw, dilation):
    """Per-side padding (top, bottom, left, right) for an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        sides = []
        for k, d in zip(kernel_hw, dilation):
            total = d * (k - 1)
            sides += [total // 2, total - total // 2]  # odd total: the extra pixel goes after
        return tuple(sides)
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def _full(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    c_out, c_per_group, kh, kw = weight.shape
    top, bottom, left, right = _resolve_padding(padding, (kh, kw), (dh, dw))
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom))
    n, _, h, w = x.shape
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    if kh == kw == 1 and sh == sw == 1:
        # A 1x1 stride-1 conv is already a matmul over channels: no patch matrix needed.
        cols = x.reshape(n, groups, c_per_group, h * w)
    else:
        # im2col as a view: kernel axes step by dilation, output axes by stride. The reshape is
        # the one copy (the patch matrix), laid out as GEMM wants it.
        s_n, s_c, s_h, s_w = x.stride()
        cols = x.as_strided((n, groups, c_per_group, kh, kw, h_out, w_out),
                            (s_n, c_per_group * s_c, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w))
        cols = cols.reshape(n, groups, c_per_group * kh * kw, h_out * w_out)
    # (groups, C_out/g, K) @ (N, groups, K, L): one batched GEMM for every image and group.
    out = torch.matmul(weight.reshape(groups, c_out // groups, -1), cols)
    out = out.reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


_cache = {}  # (storage pointer, offset, shapes, padding) -> (copy of x, weight, bias, output)


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    simple = (_pair(stride) == (1, 1) and _pair(dilation) == (1, 1) and groups == 1
              and not isinstance(padding, str))
    if not simple:
        return _full(x, weight, bias, stride, padding, dilation, groups)
    key = (x.untyped_storage().data_ptr(), x.storage_offset(), tuple(x.shape), tuple(weight.shape),
           _pair(padding))
    hit = _cache.get(key)
    same_params = hit is not None and torch.equal(hit[1], weight) and (
        (bias is None and hit[2] is None) or (bias is not None and hit[2] is not None and torch.equal(hit[2], bias)))
    if not same_params:
        out = _full(x, weight, bias, stride, padding, dilation, groups)
    else:
        old, out = hit[0], hit[3].clone()
        ph, pw = _pair(padding)
        kh, kw = weight.shape[-2:]
        h_out, w_out = out.shape[-2:]
        xp = F.pad(x, (pw, pw, ph, ph))
        for n, _, i, j in (x != old).nonzero().tolist():  # one window per changed element
            r0, r1 = max(i + ph - kh + 1, 0), min(i + ph, h_out - 1)
            c0, c1 = max(j + pw - kw + 1, 0), min(j + pw, w_out - 1)
            if r0 > r1 or c0 > c1:
                continue
            window = xp[n:n + 1, :, r0:r1 + kh, c0:c1 + kw]
            out[n:n + 1, :, r0:r1 + 1, c0:c1 + 1] = _full(window, weight, bias)
    _cache[key] = (x.clone(), weight.clone(), None if bias is None else bias.clone(), out)
    while len(_cache) > 16:  # every storage the grader uses, and memory stays bounded
        _cache.pop(next(iter(_cache)))
    return out.clone()
