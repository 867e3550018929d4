# expected: failed
# failing: stride and padding
# message: is wrong
# Crops all 2*padding rows/columns from the top/left instead of padding from each side.
import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oph, opw), (dh, dw) = _pair(output_padding), _pair(dilation)
    n, c_in, h, w = x.shape
    _, out_per_group, kh, kw = weight.shape
    in_per_group = c_in // groups
    # The full output before cropping: the last stamp ends at (H-1)*s + d*(k-1); output_padding
    # adds rows/columns at the far end.
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (w - 1) * sw + dw * (kw - 1) + 1 + opw
    full = x.new_zeros(n, out_per_group * groups, full_h, full_w)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    for g in range(groups):
        xs = x[:, g * in_per_group:(g + 1) * in_per_group]  # (N, C_in/g, H, W)
        ws = weight[g * in_per_group:(g + 1) * in_per_group]  # (C_in/g, C_out/g, kH, kW)
        outs = slice(g * out_per_group, (g + 1) * out_per_group)
        for i in range(h):
            for j in range(w):
                # Scatter: input pixel (i, j) of every channel stamps its weighted kernel at (i*s, j*s).
                stamp = torch.einsum("nc,cokl->nokl", xs[:, :, i, j], ws)
                full[:, outs, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw] += stamp
    out = full[:, :, 2 * ph:, 2 * pw:]  # padding crops from each side
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.contiguous()
