# expected: failed
# failing: stride 1, no padding; padding; stride
# message: conv_tbc
# Ban bypass (issue 13, route 6): p15's ban list named only the listed convolution ops, with no
# family pattern, so aten::conv_tbc (a 1-d convolution) computed the depthwise convolution, one
# call per kernel row and plane. No Triton kernel at all.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def depthwise_conv2d(x, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    n, c, _, _ = x.shape
    kh, kw = weight.shape[2:]
    xp = F.pad(x.float(), (pw, pw, ph, ph))
    hp, wp = xp.shape[2:]
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = torch.zeros(n, c, ho, wo)
    for ch in range(c):
        for u in range(kh):
            rows = xp[:, ch, u:u + (ho - 1) * sh + 1:sh, :]  # N, Ho, Wp
            inp = rows.permute(2, 0, 1).reshape(wp, n * ho, 1).contiguous()
            wk = weight[ch, 0, u, :].float().reshape(kw, 1, 1).contiguous()
            o = torch.conv_tbc(inp, wk, torch.zeros(1), 0)[::sw][:wo]  # Wo, N*Ho, 1
            out[:, ch] += o.reshape(wo, n, ho).permute(1, 2, 0)
    if bias is not None:
        out += bias.float()[None, :, None, None]
    return out.to(x.dtype)
