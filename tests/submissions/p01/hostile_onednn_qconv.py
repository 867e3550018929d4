# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding
# message: qconv
# Ban bypass (open on 2026-11-30): onednn::qconv2d_pointwise, oneDNN's int8 convolution kernel,
# does the whole convolution. Its name ("qconv") escapes bans.CONV_PATTERN, which wants "conv" at
# the start of a name or after "::" or "_". Exact integer arithmetic keeps it accurate: the
# input (padded by hand, its positive and negative parts apart) is split into 7-bit uint8 digits and
# the weight into balanced 7-bit int8 digits; one quantized convolution per pair of digits, summed.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _digits(v, count, signed):
    """v: float64 tensor scaled to integers; count base-128 digits, least significant first."""
    v = torch.round(v).to(torch.int64)
    out = []
    for _ in range(count):
        d = (v + 64) % 128 - 64 if signed else v % 128
        out.append(d)
        v = (v - d) // 128
    return out


def _conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    O, Cg, kh, kw = weight.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    dtype = x.dtype
    xd = F.pad(x.double(), pads)
    wd = weight.double()
    nx, nw = (4, 4) if dtype != torch.float64 else (7, 7)  # 128 ** 7 = 2 ** 49: exact in float64
    wmax = float(wd.abs().max().clamp_min(1e-300))
    ws = wmax / 128.0 ** (nw - 1) / 63.0
    wdig = _digits(wd / ws, nw, True)
    N, C, H, W = xd.shape
    one = torch.ones(O)
    zero = torch.zeros(O, dtype=torch.int64)
    total = 0
    for sign, part in ((1.0, xd.clamp_min(0)), (-1.0, (-xd).clamp_min(0))):
        xs = float(part.max().clamp_min(1e-300)) / (128.0 ** nx - 1)
        for i, qx in enumerate(_digits(part / xs, nx, False)):
            qx = qx.to(torch.uint8).contiguous()
            for j, qw in enumerate(wdig):
                packed = torch.ops.onednn.qconv_prepack(qw.to(torch.int8).contiguous(), one, 1.0, 0, [sh, sw],
                                                        [0, 0], [dh, dw], groups, [N, C, H, W])
                conv = torch.ops.onednn.qconv2d_pointwise(qx, 1.0, 0, packed, one, zero, None, [sh, sw], [0, 0],
                                                          [dh, dw], groups, 1.0, 0, torch.float32, "none", [], "")
                total = total + conv.double() * (sign * xs * 128.0 ** i * ws * 128.0 ** j)
    if bias is not None:
        total = total + bias.double()[None, :, None, None]
    return total.to(dtype).contiguous()


def cross_correlate2d(image, kernel):
    return _conv(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return _conv(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]


conv2d = _conv
