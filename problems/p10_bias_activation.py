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
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv2dBiasReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0):
        # TODO: compute relu(conv2d(...)) and save what the backward needs.
        raise NotImplementedError("p10: Conv2dBiasReLU.forward is not implemented yet")

    @staticmethod
    def backward(ctx, grad_out):
        # TODO: mask grad_out by the ReLU, then the gradients of conv + bias.
        raise NotImplementedError("p10: Conv2dBiasReLU.backward is not implemented yet")


def conv_bias_relu(x, weight, bias, stride=1, padding=0):
    # TODO: go through Conv2dBiasReLU.apply so your backward is used.
    raise NotImplementedError("p10: conv_bias_relu is not implemented yet")


def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    # TODO: eval-mode BN is a per-channel scale and shift; push both into a copy of the conv.
    raise NotImplementedError("p10: fold_batchnorm is not implemented yet")


def compose_linear_convs(w1, b1, w2, b2):
    # TODO: the composed kernel convolves w2 with w1 over the channel in between.
    raise NotImplementedError("p10: compose_linear_convs is not implemented yet")
