# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p11 - my take: scatter per kernel tap. For tap (u, v), every input pixel (i, j) lands at
(i*s + u*d, j*s + v*d) of the uncropped output: one strided slice += einsum over channels."""
import torch


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oph, opw = _pair(output_padding)
    dh, dw = _pair(dilation)
    N, C, H, W = x.shape
    Cin, Og, kh, kw = weight.shape
    G = groups
    Cg = C // G
    O = Og * G
    Hf = (H - 1) * sh + dh * (kh - 1) + 1 + oph
    Wf = (W - 1) * sw + dw * (kw - 1) + 1 + opw
    full = torch.zeros((N, O, Hf, Wf), dtype=x.dtype, device=x.device)
    for g in range(G):
        xg = x[:, g * Cg:(g + 1) * Cg]
        wg = weight[g * Cg:(g + 1) * Cg]                 # Cg, Og, kh, kw
        og = full[:, g * Og:(g + 1) * Og]
        for u in range(kh):
            r = u * dh
            for v in range(kw):
                c = v * dw
                og[:, :, r:r + sh * (H - 1) + 1:sh, c:c + sw * (W - 1) + 1:sw] += \
                    torch.einsum("nchw,co->nohw", xg, wg[:, :, u, v])
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = full[:, :, ph:ph + Ho, pw:pw + Wo].clone()
    if bias is not None:
        out += bias.to(out.dtype).view(1, -1, 1, 1)
    return out
