"""p04 - Why depthwise-separable convolution is cheaper.

Interview question 4: "Why is depthwise-separable convolution more efficient than standard
convolution?" Answer it with numbers: count parameters and multiply-adds (MACs) exactly.

kernel_size is an int or a pair (kH, kW); in_ch and out_ch are divisible by groups. All counts
are Python ints; MACs are for ONE image whose conv output is out_h x out_w.

conv_params(in_ch, out_ch, kernel_size, groups=1, bias=True) -> int
    what sum(p.numel() for p in nn.Conv2d(in_ch, out_ch, kernel_size, groups=groups, bias=bias).parameters())
    gives. Weight shape (out_ch, in_ch / groups, kH, kW), bias (out_ch,).
conv_macs(in_ch, out_ch, kernel_size, out_h, out_w, groups=1) -> int
    multiply-adds of that conv (the bias add is not a multiply-add; FLOPs = 2 * MACs).
separable_params(in_ch, out_ch, kernel_size, bias=True, depth_multiplier=1) -> int
    depthwise Conv2d(in_ch, in_ch*m, kernel_size, groups=in_ch, bias=bias), then pointwise
    Conv2d(in_ch*m, out_ch, 1, bias=bias); m = depth_multiplier. Both convs have a bias when bias=True.
separable_macs(in_ch, out_ch, kernel_size, out_h, out_w, depth_multiplier=1) -> int
    MACs of both convs; the depthwise output is also out_h x out_w.
cost_ratio(in_ch, out_ch, kernel_size) -> float
    standard MACs / separable MACs (depth_multiplier 1): how many times cheaper separable is.

Constraints: plain arithmetic is enough; return ints (not floats, not tensors) for counts.

Example (by hand): in_ch=2, out_ch=4, kernel_size=3, bias=True
    conv_params = 4*2*3*3 + 4 = 76;   separable_params = (2*9 + 2) + (2*4 + 4) = 32
    conv_macs(2, 4, 3, 5, 5) = 25*4*2*9 = 1800;  separable_macs(2, 4, 3, 5, 5) = 25*(2*9 + 2*4) = 650

Follow-ups: what is the ratio for 128 channels and a 3x3 kernel, and what does it tend to as
out_ch grows? Is separable conv 8x faster in wall-clock time too? Why or why not? Where do the
MACs of MobileNet go?
"""


def conv_params(in_ch, out_ch, kernel_size, groups=1, bias=True) -> int:
    # TODO: weights (out_ch, in_ch / groups, kH, kW) plus the bias.
    raise NotImplementedError("p04: conv_params is not implemented yet")


def conv_macs(in_ch, out_ch, kernel_size, out_h, out_w, groups=1) -> int:
    # TODO: output elements times MACs per output element.
    raise NotImplementedError("p04: conv_macs is not implemented yet")


def separable_params(in_ch, out_ch, kernel_size, bias=True, depth_multiplier=1) -> int:
    # TODO: a depthwise conv plus a 1x1 pointwise conv.
    raise NotImplementedError("p04: separable_params is not implemented yet")


def separable_macs(in_ch, out_ch, kernel_size, out_h, out_w, depth_multiplier=1) -> int:
    # TODO: the MACs of both convs.
    raise NotImplementedError("p04: separable_macs is not implemented yet")


def cost_ratio(in_ch, out_ch, kernel_size) -> float:
    # TODO: standard MACs / separable MACs.
    raise NotImplementedError("p04: cost_ratio is not implemented yet")
