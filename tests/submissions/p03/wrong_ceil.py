# expected: failed
# failing: conv_output_size
# message: expected
# Rounds the number of window positions up instead of down.
import math


def effective_kernel_size(kernel_size, dilation):
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size, dilation=1):
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def receptive_field(layers):
    field, jump = 1, 1
    for layer in layers:
        field += (layer["kernel_size"] - 1) * layer.get("dilation", 1) * jump
        jump *= layer.get("stride", 1)
    return field


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError("empty output")
    return out


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    out = math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1
    if out < 1:
        raise ValueError("empty output")
    return out
