# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p01 - my take: loop over kernel taps (not output pixels), accumulate shifted slices."""
import torch
import torch.nn.functional as F


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def cross_correlate2d(image, kernel):
    kh, kw = kernel.shape
    H, W = image.shape
    oh, ow = H - kh + 1, W - kw + 1
    out = torch.zeros((oh, ow), dtype=torch.result_type(image, kernel), device=image.device)
    for u in range(kh):
        for v in range(kw):
            out += image[u:u + oh, v:v + ow] * kernel[u, v]
    return out.to(image.dtype)


def convolve2d(image, kernel):
    return cross_correlate2d(image, torch.flip(kernel, dims=(0, 1)))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    O, Cg, kh, kw = weight.shape
    N, C, H, W = x.shape
    if isinstance(padding, str):
        if padding == "valid":
            pt = pb = pl = pr = 0
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' needs stride 1")
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pt, pb = th // 2, th - th // 2
            pl, pr = tw // 2, tw - tw // 2
        else:
            raise ValueError(f"unknown padding {padding!r}")
    else:
        ph, pw = _pair(padding)
        pt = pb = ph
        pl = pr = pw
    xp = F.pad(x, (pl, pr, pt, pb))
    Hp, Wp = H + pt + pb, W + pl + pr
    oh = (Hp - dh * (kh - 1) - 1) // sh + 1
    ow = (Wp - dw * (kw - 1) - 1) // sw + 1
    og = O // groups
    out = torch.zeros((N, O, oh, ow), dtype=x.dtype, device=x.device)
    for g in range(groups):
        xg = xp[:, g * Cg:(g + 1) * Cg]
        wg = weight[g * og:(g + 1) * og]
        acc = torch.zeros((N, og, oh, ow), dtype=x.dtype, device=x.device)
        for u in range(kh):
            for v in range(kw):
                r0, c0 = u * dh, v * dw
                sl = xg[:, :, r0:r0 + sh * (oh - 1) + 1:sh, c0:c0 + sw * (ow - 1) + 1:sw]
                acc += torch.einsum("nchw,oc->nohw", sl, wg[:, :, u, v])
        out[:, g * og:(g + 1) * og] = acc
    if bias is not None:
        out += bias.view(1, -1, 1, 1).to(x.dtype)
    return out
