"""p03 - Stride, padding and dilation: the arithmetic of a conv layer.

Interview question 3: "Explain the effects of stride, padding and dilation on convolution."

Answer it with numbers: write five functions on plain ints (one spatial dimension at a time).
Ints in, ints out (return an int, not a float or a tensor); where the output would have fewer
than 1 pixel, raise ValueError, as PyTorch refuses such a layer.

conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1) -> int
    The output length of F.conv2d along one dimension:
        out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1
effective_kernel_size(kernel_size, dilation) -> int
    How many input pixels a dilated kernel spans: dilation*(kernel_size - 1) + 1.
same_padding(kernel_size, dilation=1) -> (before, after)
    The padding that padding="same" applies (stride 1): dilation*(kernel_size - 1) in total;
    when that is odd, the extra pixel goes after (bottom/right), as PyTorch does.
receptive_field(layers) -> int
    layers: a list of dicts, e.g. [{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "dilation": 2}]
    ("stride" and "dilation" are optional, default 1). How many input pixels one output pixel of
    the whole stack depends on (first to last).
transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> int
    The output length of F.conv_transpose2d:
        out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

Constraints: plain Python arithmetic; no need for tensors at all.

Example (work it by hand):
    conv_output_size(7, 3, stride=2, padding=1) == 4       # windows start at 0, 2, 4, 6 of 9
    conv_output_size(2, 3) raises ValueError                 # a 3-wide kernel does not fit in 2
    same_padding(4) == (1, 2);  effective_kernel_size(3, 2) == 5
    receptive_field([{"kernel_size": 3, "stride": 2}] * 2 + [{"kernel_size": 3}]) == 15
    transposed_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8

Follow-ups an interviewer may ask: why does a stride-2 conv and a transposed conv with the same
settings not invert each other's shape exactly (what is output_padding for)? Why does dilation
grow the receptive field without adding parameters, and what is the "gridding" problem?
Why do ResNets use padding=1 with 3x3 kernels?

Model answer
------------
All three settings act on where the kernel's window sits. Padding adds p pixels at each end, so
the window can be centred on border pixels and, with p = (k-1)/2 for an odd kernel at stride 1,
the size is kept ("same"); without it every layer shrinks the map by k-1. Stride moves the window
s pixels at a time, so the output is about size/s: it downsamples, cutting compute by s^2 in 2-D,
and it multiplies the distance between neighbouring outputs, measured in input pixels, by s.
Dilation leaves d-1 holes between kernel taps, so a k-tap kernel spans d*(k-1)+1 pixels: a larger
receptive field at the same parameter count and without losing resolution (DeepLab, WaveNet), at
the risk of gridding artefacts if every layer uses the same d. Putting it together, the number of
window positions is floor((size + 2p - d(k-1) - 1)/s) + 1. Through a stack, the receptive field
grows by (k-1)*d times the product of earlier strides per layer, which is why early striding
grows it fast. A transposed conv maps shapes the other way; since floor loses information,
output_padding picks which of the s candidate sizes you get back.
"""


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


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    out = (size - 1) * stride - 2 * padding + effective_kernel_size(kernel_size, dilation) + output_padding
    if out < 1:
        raise ValueError(f"output size would be {out}")
    return out
