# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p12 - my take: grad_weight from a zero-copy strided window view of the padded input
(Tensor.as_strided, one einsum); grad_x by scattering each output position's gradient back
through the weight, looping over output positions."""
import torch
import torch.nn.functional as F


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    _, _, Ho, Wo = grad_out.shape
    g = grad_out.to(x.dtype)
    xp = F.pad(x, (pw, pw, ph, ph)).contiguous()
    sN, sC, sH, sW = xp.stride()
    windows = xp.as_strided((N, C, Ho, Wo, kh, kw), (sN, sC, sH * sh, sW * sw, sH * dh, sW * dw))
    grad_w = torch.einsum("nohw,nchwuv->ocuv", g, windows)
    grad_b = g.sum(dim=(0, 2, 3))

    gxp = torch.zeros_like(xp)
    for i in range(Ho):
        r = i * sh
        for j in range(Wo):
            c = j * sw
            contrib = torch.einsum("no,ocuv->ncuv", g[:, :, i, j], weight.to(x.dtype))
            gxp[:, :, r:r + dh * (kh - 1) + 1:dh, c:c + dw * (kw - 1) + 1:dw] += contrib
    grad_x = gxp[:, :, ph:ph + H, pw:pw + W].contiguous()
    return grad_x, grad_w.to(x.dtype), grad_b
