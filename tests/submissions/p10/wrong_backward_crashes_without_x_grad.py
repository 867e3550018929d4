# expected: failed
# failing: backward: some inputs without grad
# The backward crashes when x does not require grad (grad_x is None there): issue 10, autograd
# Functions are called with every subset of inputs requiring gradients.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv2dBiasReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0):
        out = F.relu(F.conv2d(x, weight, bias, stride, padding))
        # The output is enough for the ReLU mask: out > 0 exactly where the pre-activation was.
        ctx.save_for_backward(x, weight, out)
        ctx.stride, ctx.padding = stride, padding
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, out = ctx.saved_tensors
        g = grad_out * (out > 0)  # the ReLU mask: no gradient where the unit was off
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # a transposed convolution of g with the same weight
            grad_x = torch.nn.grad.conv2d_input(x.shape, weight, g, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[1]:  # a correlation of the input with g
            grad_w = torch.nn.grad.conv2d_weight(x, weight.shape, g, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[2]:  # the bias was added at every position of every sample
            grad_b = g.sum(dim=(0, 2, 3))
        grad_x = grad_x.contiguous()  # wrong: None when x needs no grad
        return grad_x, grad_w, grad_b, None, None


def conv_bias_relu(x, weight, bias, stride=1, padding=0):
    return Conv2dBiasReLU.apply(x, weight, bias, stride, padding)


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    # Eval-mode BN is a per-channel affine map: y = scale * (z - mean) + beta.
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused = copy.deepcopy(conv)  # keeps stride, padding, dilation, groups; leaves conv alone
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        fused.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias)
    return fused


def compose_linear_convs(w1, b1, w2, b2):
    c2, c1, k2h, k2w = w2.shape
    _, c0, k1h, k1w = w1.shape
    w = w1.new_zeros(c2, c0, k1h + k2h - 1, k1w + k2w - 1)
    # conv2(conv1(x)) reads x at offset (p + u, q + v) with weight w2[p, q] * w1[u, v]:
    # the kernels combine by a full convolution, summed over the channel in between.
    for p in range(k2h):
        for q in range(k2w):
            w[:, :, p:p + k1h, q:q + k1w] += torch.einsum("om,mcuv->ocuv", w2[:, :, p, q], w1)
    b = w2.new_zeros(c2) if b2 is None else b2.clone()
    if b1 is not None:  # b1 is a constant image, so conv2 sees it through the sum of its taps
        b = b + w2.sum(dim=(2, 3)) @ b1
    return w, b
