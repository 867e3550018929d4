# expected: passed
# A correct p03 that differs from the reference: it counts window positions with a loop, walks the
# receptive field top-down, returns same_padding as a list, and raises a ValueError subclass.


class EmptyOutputError(ValueError):
    """The layer would produce no output pixels."""


def effective_kernel_size(kernel_size, dilation):
    taps = list(range(0, kernel_size * dilation, dilation))  # offsets of the kernel's taps
    return taps[-1] + 1


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span, padded = effective_kernel_size(kernel_size, dilation), size + 2 * padding
    count, start = 0, 0
    while start + span <= padded:
        count += 1
        start += stride
    if count == 0:
        raise EmptyOutputError(f"a kernel spanning {span} does not fit in {padded}")
    return count


def same_padding(kernel_size, dilation=1):
    total = effective_kernel_size(kernel_size, dilation) - 1
    before = total // 2
    return [before, total - before]


def receptive_field(layers):
    # Top-down: r pixels at a layer's output need (r - 1) * stride + span pixels at its input.
    r = 1
    for layer in reversed(layers):
        span = effective_kernel_size(layer["kernel_size"], layer.get("dilation", 1))
        r = (r - 1) * layer.get("stride", 1) + span
    return r


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    # The input of a conv with these settings that would give `size` outputs, the largest of the
    # stride candidates picked by output_padding.
    full = (size - 1) * stride + effective_kernel_size(kernel_size, dilation) + output_padding
    out = full - 2 * padding
    if out <= 0:
        raise EmptyOutputError(f"output size would be {out}")
    return out
