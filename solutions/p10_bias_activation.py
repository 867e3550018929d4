"""p10 - Bias and activation.

Interview question 10: "Explain the role of the bias term and the activation function in
convolution." Answer it with code: a fused conv + bias + ReLU with its own backward, BatchNorm
folded into a conv's weight and bias, and two convs with no activation between them as one.

class Conv2dBiasReLU(torch.autograd.Function)
    forward(ctx, x, weight, bias, stride=1, padding=0) -> relu(F.conv2d(x, weight, bias, stride, padding))
        x (N, C, H, W), weight (O, C, kH, kW), bias (O,); out (N, O, H_out, W_out),
        H_out = floor((H + 2p - kH) / s) + 1. The forward may use F.conv2d.
    backward(ctx, grad_out) -> (grad_x, grad_weight, grad_bias, None, None)
        Written by hand: no torch.autograd.grad / .backward() / torch.func inside, no calling
        autograd's nodes (grad_fn). F.conv2d, F.conv_transpose2d and torch.nn.grad are allowed.
conv_bias_relu(x, weight, bias, stride=1, padding=0) -> Conv2dBiasReLU.apply(...)

fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d
    A new conv (same stride, padding, dilation, groups) equal to bn(conv(x)) in eval mode,
    i.e. with bn's running statistics, affine weight/bias and eps. It always has a bias, also
    when conv had none. Leave conv and bn unchanged.

compose_linear_convs(w1, b1, w2, b2) -> (w, b)
    conv1 = (w1 (C1, C0, k1h, k1w), b1 (C1,)), conv2 = (w2 (C2, C1, k2h, k2w), b2 (C2,)), both
    stride 1, no padding, no activation between them. Return one conv with
    w (C2, C0, k1h + k2h - 1, k1w + k2w - 1) and b (C2,) so that
    F.conv2d(x, w, b) == F.conv2d(F.conv2d(x, w1, b1), w2, b2). b1 or b2 may be None (no bias).

Example (by hand): one channel, w1 = [[1, 2]], b1 = [1], w2 = [[1], [1]] (2x1), b2 = [0]:
    w = [[1, 2], [1, 2]] (2x2), b = [2]   (b1 passes through w2, whose taps sum to 2)

Follow-ups: why is a CNN without activations just one big linear map, whatever its depth? Why
can BatchNorm be folded at inference but not during training? Why is a bias before BatchNorm
useless? How does the ReLU mask show up in the gradient?

Model answer
------------
A convolution is linear in its input, so the bias and the activation are what give a layer its
expressive power. The bias lets each filter shift its response: without it every output channel
is forced through zero when the input is zero, and a ReLU after it could only threshold at zero;
with it, each channel learns its own threshold ("fire when the evidence exceeds b"). It adds one
parameter per output channel, which is nothing next to the kernel. The activation is what stops
the layers from collapsing: two convs with nothing between them are a single conv, because
convolution is associative. Their kernels convolve into one kernel of size k1 + k2 - 1, and the
first bias just passes through the second kernel (each output channel gets b2 plus b1 weighted by
the sum of w2's taps). So a deep stack of convs without activations is no more expressive than
one conv with a large kernel; the nonlinearity (ReLU here) is what makes depth useful, letting
the network build piecewise-linear functions of ever more complex shape. In the backward the ReLU
shows up as a mask: the gradient flows only where the output was positive, and the bias gradient
is grad_out summed over batch and positions inside that mask. The same linearity is why
BatchNorm can be folded at inference: with running statistics, BN is a fixed per-channel affine
map, scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, so it can be pushed into
the conv's weight and bias (which is also why a bias right before BN is redundant). During
training BN uses batch statistics, which change with every batch, so it cannot be folded then.
"""

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
        return grad_x, grad_w, grad_b, None, None  # stride and padding have no gradient


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
