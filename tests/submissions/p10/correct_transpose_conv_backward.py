# expected: passed
# A correct p10 that differs from the reference: the backward uses F.conv_transpose2d with an
# explicit output_padding for grad_x and the "conv over the batch" trick for grad_weight; the
# fold builds a fresh nn.Conv2d; the composition is F.conv2d of the kernels themselves.
import torch
import torch.nn as nn
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class Conv2dBiasReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0):
        pre = F.conv2d(x, weight, bias, stride, padding)
        mask = pre > 0
        ctx.save_for_backward(x, weight, mask)
        ctx.conf = (_pair(stride), _pair(padding))
        return pre * mask

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask = ctx.saved_tensors
        (sh, sw), (ph, pw) = ctx.conf
        g = torch.where(mask, grad_out, torch.zeros_like(grad_out))
        h, w = x.shape[-2:]
        kh, kw = weight.shape[-2:]
        # Rows the forward never reached (stride remainder) come back as output_padding.
        oph = h + 2 * ph - ((g.shape[2] - 1) * sh + kh)
        opw = w + 2 * pw - ((g.shape[3] - 1) * sw + kw)
        grad_x = F.conv_transpose2d(g, weight, None, (sh, sw), (ph, pw), (oph, opw))
        # grad_w[o, c] = sum_n corr(x[n, c], g[n, o]) with g dilated by the stride:
        # treat channels as the batch and the batch as channels.
        gw = F.conv2d(x.transpose(0, 1), g.transpose(0, 1), None, 1, (ph, pw), (sh, sw))
        grad_w = gw.transpose(0, 1)[:, :, :kh, :kw]
        return grad_x, grad_w, g.sum(dim=(0, 2, 3)), None, None


def conv_bias_relu(x, weight, bias, stride=1, padding=0):
    return Conv2dBiasReLU.apply(x, weight, bias, stride, padding)


def fold_batchnorm(conv, bn):
    std = (bn.running_var + bn.eps).sqrt()
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode,
                      device=conv.weight.device, dtype=conv.weight.dtype)
    b = conv.bias.detach() if conv.bias is not None else 0.0
    with torch.no_grad():
        fused.weight.copy_(conv.weight * (bn.weight / std)[:, None, None, None])
        fused.bias.copy_(bn.bias + (b - bn.running_mean) * bn.weight / std)
    return fused


def compose_linear_convs(w1, b1, w2, b2):
    k2h, k2w = w2.shape[-2:]
    # A full convolution of the kernels: treat w1's input channels as the batch.
    w = F.conv2d(w1.transpose(0, 1), w2.flip(2, 3), padding=(k2h - 1, k2w - 1)).transpose(0, 1)
    b = torch.zeros(w2.shape[0], dtype=w2.dtype) if b2 is None else b2
    if b1 is not None:
        b = b + torch.einsum("omhw,m->o", w2, b1)
    return w.contiguous(), b
