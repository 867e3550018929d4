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

Model answer
------------
A standard conv does two jobs at once: it filters space and mixes channels, so every output
channel has a kH x kW filter for every input channel: out_ch * in_ch * k^2 weights, and that many
multiply-adds at every output pixel. A depthwise-separable conv splits the jobs. The depthwise
conv filters space per channel (in_ch * k^2), the 1x1 pointwise conv mixes channels (in_ch *
out_ch). Per output pixel that is in_ch * (k^2 + out_ch) MACs instead of in_ch * out_ch * k^2, so

    separable / standard = 1/out_ch + 1/k^2,

and for 128 channels and 3x3 kernels the separable layer is 1 / (1/128 + 1/9) = 8.4x cheaper
(parameters shrink by the same factor, up to the biases). As out_ch grows the ratio tends to
k^2 = 9: the pointwise conv then holds almost all the cost, which is exactly what MobileNet shows
(about 95% of its MACs are 1x1 convs). Two caveats an interviewer wants to hear: fewer MACs is
not the same wall-clock speed-up, because a depthwise conv has little arithmetic per byte moved
and is memory-bound, while a dense conv keeps the tensor cores busy; and the factorisation is a
restriction (a rank constraint on the full kernel), so one usually widens the net or adds blocks
to win the accuracy back.
"""


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


def separable_params(in_ch, out_ch, kernel_size, bias=True, depth_multiplier=1) -> int:
    mid = in_ch * depth_multiplier
    depthwise = conv_params(in_ch, mid, kernel_size, groups=in_ch, bias=bias)  # its own bias too
    pointwise = conv_params(mid, out_ch, 1, bias=bias)
    return depthwise + pointwise


def separable_macs(in_ch, out_ch, kernel_size, out_h, out_w, depth_multiplier=1) -> int:
    mid = in_ch * depth_multiplier
    return (conv_macs(in_ch, mid, kernel_size, out_h, out_w, groups=in_ch)
            + conv_macs(mid, out_ch, 1, out_h, out_w))


def cost_ratio(in_ch, out_ch, kernel_size) -> float:
    # The spatial size cancels, so any output size works; 1 x 1 keeps the numbers small.
    return conv_macs(in_ch, out_ch, kernel_size, 1, 1) / separable_macs(in_ch, out_ch, kernel_size, 1, 1)
