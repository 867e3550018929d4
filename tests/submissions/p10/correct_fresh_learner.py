# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p10 - my take: backward via F.conv_transpose2d (with the right output_padding) and
grad_weight as an F.conv2d with batch and channels swapped (stride becomes dilation)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


class Conv2dBiasReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0):
        out = F.conv2d(x, weight, bias, stride, padding).clamp_min(0)
        ctx.save_for_backward(x, weight, out)
        ctx.stride, ctx.padding = _pair(stride), _pair(padding)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, out = ctx.saved_tensors
        (sh, sw), (ph, pw) = ctx.stride, ctx.padding
        g = grad_out * (out > 0).to(grad_out.dtype)
        N, C, H, W = x.shape
        O, _, kh, kw = weight.shape
        Ho, Wo = g.shape[-2:]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            oph = H - ((Ho - 1) * sh - 2 * ph + kh)
            opw = W - ((Wo - 1) * sw - 2 * pw + kw)
            grad_x = F.conv_transpose2d(g, weight, None, (sh, sw), (ph, pw), (oph, opw))
        if ctx.needs_input_grad[1]:
            xp = F.pad(x, (pw, pw, ph, ph)).transpose(0, 1)           # C, N, Hp, Wp
            gw = F.conv2d(xp, g.transpose(0, 1), None, 1, 0, (sh, sw))  # C, O, >=kh, >=kw
            grad_w = gw[:, :, :kh, :kw].transpose(0, 1).contiguous()
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum(dim=(0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def conv_bias_relu(x, weight, bias, stride=1, padding=0):
    return Conv2dBiasReLU.apply(x, weight, bias, stride, padding)


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    w = conv.weight.detach()
    b = conv.bias.detach() if conv.bias is not None else torch.zeros(conv.out_channels, dtype=w.dtype, device=w.device)
    mean = bn.running_mean.to(w.dtype)
    var = bn.running_var.to(w.dtype)
    gamma = bn.weight.detach().to(w.dtype) if bn.weight is not None else torch.ones_like(mean)
    beta = bn.bias.detach().to(w.dtype) if bn.bias is not None else torch.zeros_like(mean)
    scale = gamma * torch.rsqrt(var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                      padding_mode=conv.padding_mode, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        fused.weight.copy_(w * scale.view(-1, 1, 1, 1))
        fused.bias.copy_((b - mean) * scale + beta)
    return fused


def compose_linear_convs(w1, b1, w2, b2):
    C1, C0, k1h, k1w = w1.shape
    C2, _, k2h, k2w = w2.shape
    dtype = torch.promote_types(w1.dtype, w2.dtype)
    w = torch.zeros((C2, C0, k1h + k2h - 1, k1w + k2w - 1), dtype=dtype, device=w1.device)
    for bh in range(k2h):
        for bw in range(k2w):
            w[:, :, bh:bh + k1h, bw:bw + k1w] += torch.einsum("ij,jkab->ikab", w2[:, :, bh, bw], w1)
    b = torch.zeros(C2, dtype=dtype, device=w1.device)
    if b1 is not None:
        b = b + torch.einsum("ijab,j->i", w2, b1)
    if b2 is not None:
        b = b + b2
    return w, b
