# expected: failed
# failing: stride 1, no padding
# A wrong default: stride=2 (every call that passes stride is right; issue 10).
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_backward(grad_out, x, weight, stride=2, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    _, _, h, w = x.shape
    _, _, kh, kw = weight.shape
    h_out, w_out = grad_out.shape[-2:]
    # F.pad is a copy into a larger zero tensor; the padded pixels were constants, not inputs.
    xp = F.pad(x, (pw, pw, ph, ph))
    grad_xp = torch.zeros_like(xp)
    grad_weight = torch.zeros_like(weight)
    for u in range(kh):
        for v in range(kw):
            # The input pixels kernel offset (u, v) touched: one strided slice, grad_out's shape.
            rows = slice(u * dh, u * dh + sh * (h_out - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (w_out - 1) + 1, sw)
            grad_weight[:, :, u, v] = torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, rows, cols])
            # Send grad_out back through weight[:, :, u, v] to those same pixels (accumulate:
            # with dilation < kernel size, offsets overlap).
            grad_xp[:, :, rows, cols] += torch.einsum("nohw,oc->nchw", grad_out, weight[:, :, u, v])
    grad_x = grad_xp[:, :, ph:ph + h, pw:pw + w]  # crop the padding off
    grad_bias = grad_out.sum(dim=(0, 2, 3))  # the bias was added to every output pixel
    return grad_x, grad_weight, grad_bias
