# expected: failed
# failing: dilation and groups
# The 1x1 fast path splits channels as (C/groups, groups) instead of (groups, C/groups): right
# only with one group or one channel per group (a mutation-audit survivor).
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


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
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
        cols = x.reshape(n, c_per_group, groups, h * w).transpose(1, 2)  # wrong: channel order
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
