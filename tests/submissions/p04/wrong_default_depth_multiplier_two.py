# expected: failed
# failing: separable_params; separable_macs
# A wrong default: depth_multiplier=2 (issue 10).
def _pair(k):
    return (k, k) if isinstance(k, int) else (int(k[0]), int(k[1]))


def conv_params(in_ch, out_ch, kernel_size, groups=1, bias=True) -> int:
    kh, kw = _pair(kernel_size)
    # Each output channel sees only in_ch / groups input channels.
    return out_ch * (in_ch // groups) * kh * kw + (out_ch if bias else 0)


def conv_macs(in_ch, out_ch, kernel_size, out_h, out_w, groups=1) -> int:
    kh, kw = _pair(kernel_size)
    # One multiply-add per weight per output pixel; the bias add is not counted.
    return out_h * out_w * out_ch * (in_ch // groups) * kh * kw


def separable_params(in_ch, out_ch, kernel_size, bias=True, depth_multiplier=2) -> int:
    mid = in_ch * depth_multiplier
    depthwise = conv_params(in_ch, mid, kernel_size, groups=in_ch, bias=bias)  # its own bias too
    pointwise = conv_params(mid, out_ch, 1, bias=bias)
    return depthwise + pointwise


def separable_macs(in_ch, out_ch, kernel_size, out_h, out_w, depth_multiplier=2) -> int:
    mid = in_ch * depth_multiplier
    return (conv_macs(in_ch, mid, kernel_size, out_h, out_w, groups=in_ch)
            + conv_macs(mid, out_ch, 1, out_h, out_w))


def cost_ratio(in_ch, out_ch, kernel_size) -> float:
    # The spatial size cancels, so any output size works; 1 x 1 keeps the numbers small.
    return conv_macs(in_ch, out_ch, kernel_size, 1, 1) / separable_macs(in_ch, out_ch, kernel_size, 1, 1)
