# expected: passed
# A correct p04 that differs from the reference: it builds the layers as nn.Conv2d modules on the
# meta device and asks PyTorch (parameter numel, FlopCounterMode) instead of using formulas, and
# computes cost_ratio from the closed form 1 / (1/out_ch + 1/(kH*kW)).
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


def _kernel(k):
    return (k, k) if isinstance(k, int) else tuple(k)


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _macs(module, in_ch, kernel_size, out_h, out_w):
    kh, kw = _kernel(kernel_size)
    x = torch.empty(1, in_ch, out_h + kh - 1, out_w + kw - 1, device="meta")
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2  # FLOPs count a multiply and an add


def _separable(in_ch, out_ch, kernel_size, bias, m):
    return nn.Sequential(
        nn.Conv2d(in_ch, in_ch * m, _kernel(kernel_size), groups=in_ch, bias=bias, device="meta"),
        nn.Conv2d(in_ch * m, out_ch, 1, bias=bias, device="meta"))


def conv_params(in_ch, out_ch, kernel_size, groups=1, bias=True):
    return _params(nn.Conv2d(in_ch, out_ch, _kernel(kernel_size), groups=groups, bias=bias, device="meta"))


def conv_macs(in_ch, out_ch, kernel_size, out_h, out_w, groups=1):
    conv = nn.Conv2d(in_ch, out_ch, _kernel(kernel_size), groups=groups, bias=False, device="meta")
    return _macs(conv, in_ch, kernel_size, out_h, out_w)


def separable_params(in_ch, out_ch, kernel_size, bias=True, depth_multiplier=1):
    return _params(_separable(in_ch, out_ch, kernel_size, bias, depth_multiplier))


def separable_macs(in_ch, out_ch, kernel_size, out_h, out_w, depth_multiplier=1):
    return _macs(_separable(in_ch, out_ch, kernel_size, False, depth_multiplier), in_ch, kernel_size, out_h, out_w)


def cost_ratio(in_ch, out_ch, kernel_size):
    kh, kw = _kernel(kernel_size)
    return 1.0 / (1.0 / out_ch + 1.0 / (kh * kw))
