# expected: failed
# failing: transposed_output_size
# A wrong default: padding=-1 in transposed_output_size.
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = effective_kernel_size(kernel_size, dilation)
    # Floor division: a window that would run off the padded end does not count. Python's //
    # floors negative numbers too, so a kernel larger than the padded input gives < 1 here.
    out = (size + 2 * padding - span) // stride + 1
    if out < 1:
        raise ValueError(f"output size would be {out}: a kernel spanning {span} pixels does not fit "
                         f"in {size} + 2*{padding} padded pixels")
    return out


def effective_kernel_size(kernel_size, dilation):
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size, dilation=1):
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2  # odd total: the extra pixel after, as PyTorch


def receptive_field(layers):
    field, jump = 1, 1  # jump: input pixels between neighbouring outputs of the stack so far
    for layer in layers:
        field += (layer["kernel_size"] - 1) * layer.get("dilation", 1) * jump
        jump *= layer.get("stride", 1)
    return field


def transposed_output_size(size, kernel_size, stride=1, padding=-1, output_padding=0, dilation=1):
    out = (size - 1) * stride - 2 * padding + effective_kernel_size(kernel_size, dilation) + output_padding
    if out < 1:
        raise ValueError(f"output size would be {out}")
    return out
