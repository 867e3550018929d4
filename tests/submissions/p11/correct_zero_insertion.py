# expected: passed
# A correct p11 that differs from the reference: it gathers instead of scattering. Insert
# stride-1 zeros between input pixels, pad by dilation*(k-1) - padding (cropping where that is
# negative, output_padding extra at the end), then run a p01-style loop cross-correlation with the
# kernel turned by 180 degrees and its in/out channel axes swapped.


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _pad_or_crop(t, before, after, dim):
    """Zero-pad (positive) or crop (negative) `t` along `dim` at both ends."""
    size = t.shape[dim]
    t = t.narrow(dim, max(0, -before), size - max(0, -before) - max(0, -after))
    shape = list(t.shape)
    shape[dim] = t.shape[dim] + max(0, before) + max(0, after)
    out = t.new_zeros(shape)
    out.narrow(dim, max(0, before), t.shape[dim]).copy_(t)
    return out


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oph, opw), (dh, dw) = _pair(output_padding), _pair(dilation)
    n, c_in, h, w = x.shape
    _, out_per_group, kh, kw = weight.shape
    in_per_group = c_in // groups
    up = x.new_zeros(n, c_in, (h - 1) * sh + 1, (w - 1) * sw + 1)
    up[:, :, ::sh, ::sw] = x
    up = _pad_or_crop(up, dh * (kh - 1) - ph, dh * (kh - 1) - ph + oph, 2)
    up = _pad_or_crop(up, dw * (kw - 1) - pw, dw * (kw - 1) - pw + opw, 3)
    h_out = up.shape[2] - dh * (kh - 1)
    w_out = up.shape[3] - dw * (kw - 1)
    out = x.new_zeros(n, out_per_group * groups, h_out, w_out)
    flipped = weight.flip(-2, -1)
    for o in range(out_per_group * groups):
        g, oo = divmod(o, out_per_group)
        kern = flipped[g * in_per_group:(g + 1) * in_per_group, oo]  # (C_in/g, kH, kW)
        chans = up[:, g * in_per_group:(g + 1) * in_per_group]
        for i in range(h_out):
            for j in range(w_out):
                win = chans[:, :, i:i + dh * (kh - 1) + 1:dh, j:j + dw * (kw - 1) + 1:dw]
                out[:, o, i, j] = (win * kern).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
