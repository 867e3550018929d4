# expected: passed
# A correct p12 that differs from the reference: it loops over output pixels (not kernel
# offsets), gathers each dilated window with a strided slice and scatters grad_out back into it.
import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    xp = x.new_zeros(n, c, h + 2 * ph, w + 2 * pw)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    gxp = torch.zeros_like(xp)
    gw = torch.zeros_like(weight)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    for i in range(grad_out.shape[2]):
        for j in range(grad_out.shape[3]):
            g = grad_out[:, :, i, j]  # (N, O)
            window = xp[:, :, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw]  # (N, C, kH, kW)
            gw += (g[:, :, None, None, None] * window[:, None]).sum(0)
            gxp[:, :, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw] += \
                (g[:, :, None, None, None] * weight[None]).sum(1)
    return gxp[:, :, ph:ph + h, pw:pw + w], gw, grad_out.sum(dim=(0, 2, 3))
